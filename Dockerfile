# syntax=docker/dockerfile:1
# The longshore image: the package as npm publishes it (`npm pack`), installed the way a user project installs it
# (production dependencies only, plus onnxruntime-node), run by a non-root user on a read-only root filesystem.
#
#   docker build -t longshore .
#   docker run --rm -p 8000:8000 --read-only \
#     -v "$PWD/longshore.yaml:/config/longshore.yaml:ro" -v "$PWD/models:/models:ro" longshore
#
# Layout: the config is /config/longshore.yaml ($LONGSHORE_CONFIG; relative paths in it resolve against /config),
# model files go under /models. Modules anywhere can import `longshore` and `@sinclair/typebox`: /node_modules points
# at the image's /app/node_modules. test/package/production-install.e2e.ts runs the runtime stage's steps outside a
# container, reading them from this file.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile src/ to dist/ and pack the tarball npm would publish -------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# .npmrc: onnxruntime-node-install=skip, so its install script downloads no CUDA files (the CPU runtime ships in it).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md LICENSE CHANGELOG.md ./
COPY scripts ./scripts
COPY docs ./docs
COPY src ./src
# `npm pack` runs prepack (`npm run build`); the tarball gets a fixed name for the next stage.
RUN mkdir /pack \
 && npm pack --pack-destination /pack \
 && mv /pack/longshore-*.tgz /pack/longshore.tgz

# --- runtime -------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# The onnxruntime-node release to serve .onnx files with: package-lock.json's, unless overridden with --build-arg.
ARG ONNXRUNTIME_NODE_VERSION=1.30.0

LABEL org.opencontainers.image.title="longshore" \
      org.opencontainers.image.description="A model server for Node/TypeScript teams: ONNX and TypeScript models from one YAML file, over REST and the Open Inference Protocol." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

# tini as PID 1: forwards SIGTERM to longshore (which drains, then exits 0) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    TSX_DISABLE_CACHE=1 \
    LONGSHORE_HOST=0.0.0.0 \
    LONGSHORE_PORT=8000 \
    LONGSHORE_CONFIG=/config/longshore.yaml

WORKDIR /app
COPY --from=build /pack/longshore.tgz /tmp/longshore.tgz
# A production install, as a user project does it: root owns /app, so the server cannot write there.
RUN echo '{"name":"longshore-image","private":true}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/longshore.tgz "onnxruntime-node@${ONNXRUNTIME_NODE_VERSION}" \
 && rm /tmp/longshore.tgz \
 && npm cache clean --force \
 && ln -s /app/node_modules /node_modules \
 && mkdir -p /config /models

USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LONGSHORE_PORT||8000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/node_modules/longshore/dist/bin.js"]
CMD ["serve"]

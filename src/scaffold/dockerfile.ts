/**
 * The container image of a project made by `longshore init`: the Dockerfile and .dockerignore that init writes, and
 * `longshore dockerfile`, which prints the Dockerfile (or, with --write, writes both, never overwriting) for a project
 * made before they joined the scaffold.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The files `longshore dockerfile --write` writes, in order. */
export const DOCKER_FILES = ['Dockerfile', '.dockerignore'] as const;

/**
 * A two-stage build of the project: `npm ci` (dev dependencies too, for the optional typecheck), then
 * `npm prune --omit=dev`; the runtime stage copies the app, runs it as the image's `node` user on a read-only root
 * filesystem, with tini as PID 1. No build step: .ts models load through tsx, which longshore depends on.
 */
export function dockerfile(): string {
  return `# syntax=docker/dockerfile:1
# The container image of this service (written by longshore; edit it freely).
#
#   npm install                      # npm ci below needs package-lock.json
#   docker build -t my-service .
#   docker run --rm -p 8000:8000 --read-only my-service
#
# The server runs as the unprivileged node user (uid 1000) and writes nothing to disk, so --read-only (Kubernetes:
# readOnlyRootFilesystem) works. tini is PID 1: it passes SIGTERM on, and longshore drains in-flight requests, then
# exits. HEALTHCHECK calls GET /api/health with node itself (slim images have no curl).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM \${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc holds onnxruntime-node-install=skip: onnxruntime-node (if you serve .onnx files) downloads no CUDA files.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
# Type-check the models (a typecheck script is optional), then keep the production dependencies only.
RUN npm run typecheck --if-present \\
 && npm prune --omit=dev --no-audit --no-fund

FROM \${NODE_IMAGE} AS runtime
RUN apt-get update \\
 && apt-get install -y --no-install-recommends tini \\
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \\
    TSX_DISABLE_CACHE=1 \\
    LONGSHORE_HOST=0.0.0.0 \\
    LONGSHORE_PORT=8000
WORKDIR /app
# Owned by root and read-only for the server's user.
COPY --from=build /app /app
USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \\
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LONGSHORE_PORT||8000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/node_modules/longshore/dist/bin.js"]
CMD ["serve", "--config", "longshore.yaml"]
`;
}

/** What stays out of the image's build context: installed and local files, and the test suite. */
export function dockerignore(): string {
  return `# Kept out of \`docker build\`: the image runs npm ci itself.
node_modules
.git
test
*.log
*.tgz
.env
.env.*
Dockerfile
.dockerignore
`;
}

export interface DockerfileOptions {
  /** Write Dockerfile and .dockerignore instead of printing the Dockerfile. */
  readonly write?: boolean;
  /** The project directory (default: the current one). */
  readonly dir?: string;
}

/**
 * The CLI's side of `longshore dockerfile`: prints the Dockerfile on stdout (and, on stderr, to add a .dockerignore),
 * or with --write writes both into the project, refusing (exit 2, nothing written) when either exists.
 */
export function runDockerfile(options: DockerfileOptions, cwd: string = process.cwd()): number {
  const dir = resolve(cwd, options.dir ?? '.');
  if (!options.write) {
    process.stdout.write(dockerfile());
    process.stderr.write(
      'longshore dockerfile: add a .dockerignore next to it that leaves out node_modules, .git and test/ ' +
        '(`longshore dockerfile --write` writes both files)\n',
    );
    return 0;
  }
  const clashes = DOCKER_FILES.filter((file) => existsSync(join(dir, file)));
  if (clashes.length > 0) {
    process.stderr.write(`longshore dockerfile: refusing to overwrite ${clashes.join(', ')} in ${dir} (nothing was written)\n`);
    return 2;
  }
  const contents: Record<(typeof DOCKER_FILES)[number], string> = { Dockerfile: dockerfile(), '.dockerignore': dockerignore() };
  const written: string[] = [];
  for (const file of DOCKER_FILES) {
    try {
      // 'wx': never overwrite, even a file that appeared since the check above.
      writeFileSync(join(dir, file), contents[file], { flag: 'wx' });
    } catch (error) {
      const done = written.length === 0 ? 'nothing was written' : `only ${written.join(', ')} written`;
      process.stderr.write(`longshore dockerfile: cannot write ${join(dir, file)}: ${(error as Error).message} (${done})\n`);
      return 2;
    }
    written.push(file);
  }
  const lines = [`wrote ${written.map((file) => join(dir, file)).join(' and ')}`];
  if (!existsSync(join(dir, 'package-lock.json'))) lines.push('no package-lock.json yet: run npm install before docker build (the image runs npm ci)');
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

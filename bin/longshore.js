#!/usr/bin/env node
// The `longshore` command run from longshore's own sources, for development in this repository (`npm start`, the
// tests). tsx's ESM hooks are registered first so src/*.ts load without a build; its CommonJS hooks join when a model
// is TypeScript, as in the package (src/runtimes/typescript-loader.ts). The published package's command is dist/bin.js,
// compiled by `npm run build`, which needs no TypeScript loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');

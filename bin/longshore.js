#!/usr/bin/env node
// Entry point of the `longshore` command. tsx is registered first so longshore's own sources and users' `.ts` model
// files load without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;

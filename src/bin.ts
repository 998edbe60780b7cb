#!/usr/bin/env node
/**
 * The `longshore` command (package.json `bin`, built to dist/bin.js): runs the CLI with this process's arguments.
 * Plain JavaScript once built: no TypeScript loader is registered unless a configured model needs one.
 */
import { main } from './cli.js';

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;

/**
 * Users' TypeScript with no build step: a model, decorator or function module named `./model.ts` (or `.mts`, `.cts`)
 * is imported through tsx's module hooks, which are registered here the first time a configured module needs them and
 * never otherwise (a config of ONNX files and JavaScript modules never loads tsx or esbuild).
 *
 * tsx keeps a cache of compiled files under the temp dir; with no writable temp dir (Kubernetes'
 * `readOnlyRootFilesystem`, a TMPDIR that does not exist) that cache is turned off instead of failing the start.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const TYPESCRIPT_FILE = /\.[cm]?ts$/i;

let registration: Promise<void> | undefined;

/** Whether the module at `url` (a file: URL or path) is TypeScript, so it needs the loader. */
export function isTypeScriptModule(url: string): boolean {
  const path = url.split(/[?#]/, 1)[0] ?? url;
  return TYPESCRIPT_FILE.test(path) && !/\.d\.[cm]?ts$/i.test(path);
}

/** Registers the TypeScript loader once, if `url` needs it. Safe to call for every import. */
export async function prepareImport(url: string): Promise<void> {
  if (!isTypeScriptModule(url)) return;
  registration ??= registerTypeScriptLoader();
  await registration;
}

async function registerTypeScriptLoader(): Promise<void> {
  // Running from longshore's own sources (development, its tests): they are TypeScript themselves, so tsx's ESM hooks
  // are already active in this thread; add its CommonJS hooks, as below.
  if (import.meta.url.endsWith('.ts')) {
    (await import('tsx/cjs/api')).register();
    return;
  }
  if (!tsxCacheWritable() && process.env['TSX_DISABLE_CACHE'] === undefined) {
    process.env['TSX_DISABLE_CACHE'] = '1';
    // Module hooks run in one thread that copied the environment when the first hooks were registered: hooks loaded
    // with --import before longshore started (an APM agent, say) mean tsx will not see the variable set here.
    if (process.execArgv.some((arg) => /^--(import|loader|experimental-loader)\b/.test(arg))) {
      process.emitWarning(
        'the temp dir is not writable, and module hooks registered with --import may keep tsx from seeing TSX_DISABLE_CACHE set now: ' +
          'set TSX_DISABLE_CACHE=1 in the environment to load TypeScript models without a cache',
        { code: 'LONGSHORE_TSX_CACHE' },
      );
    }
  }
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  // ESM hooks for import/export files; CommonJS hooks so a `.ts` file in a package without `"type": "module"` (which
  // Node loads as CommonJS) is compiled too.
  esm.register();
  cjs.register();
}

/**
 * Whether tsx can keep its cache folder (`<tmpdir>/tsx-<uid>`): the temp dir exists and is writable, and so is that
 * folder if it exists already. Nothing is created here: a TMPDIR that does not exist stays so.
 */
function tsxCacheWritable(): boolean {
  const user = typeof process.geteuid === 'function' ? String(process.geteuid()) : safeUserName();
  try {
    accessSync(tmpdir(), constants.W_OK);
    const cache = join(tmpdir(), `tsx-${user}`);
    if (existsSync(cache)) accessSync(cache, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'user';
  }
}

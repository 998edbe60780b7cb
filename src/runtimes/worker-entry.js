// The file piscina starts in each worker thread of a code model's pool (`workers: N`, see worker-pool.ts).
//
// Plain JavaScript, so it runs the same from the built package (dist/, next to worker-body.js) and from longshore's
// sources (src/, next to worker-body.ts). Module hooks of the main thread do not reach worker threads on Node 20, so
// from the sources it registers tsx itself to import the TypeScript body. The body registers the loader for a user's
// .ts model itself, only when the model is TypeScript (typescript-loader.ts).
//
// The top-level await is deliberate: piscina first tries require() on this file, and a module with top-level await
// cannot be required (Node throws ERR_REQUIRE_ASYNC_MODULE, tsx's CommonJS transform rejects it), so that attempt fails
// before anything runs and the file is evaluated once, as ESM. Without it, the require() attempt would evaluate the
// file a second time as CommonJS and poison the import of the body.
import { existsSync } from 'node:fs';

const built = new URL('./worker-body.js', import.meta.url);
let body = built;
if (!existsSync(built)) {
  const { register } = await import('tsx/esm/api');
  register();
  body = new URL('./worker-body.ts', import.meta.url);
}
const { startWorker } = await import(body.href);

/** piscina's task handler, available once this worker's copy of the model has loaded (or failed to). */
export default await startWorker();

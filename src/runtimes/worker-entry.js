// The file piscina starts in each worker thread of a code model's pool (`workers: N`, see worker-pool.ts).
//
// It is plain JavaScript because the main thread's module hooks do not reach worker threads on Node 20: not those of
// bin/longshore.js (tsx's register()), and not those of `node --import tsx` either (the flag is passed on to workers,
// but .ts imports still fail there). So it registers tsx itself, then imports the TypeScript body, which imports the
// user's (possibly .ts) model, constructs it and awaits its load().
//
// The top-level await is deliberate: piscina first tries require() on this file, and a module with top-level await
// cannot be required (Node throws ERR_REQUIRE_ASYNC_MODULE, tsx's CommonJS transform rejects it), so that attempt fails
// before anything runs and the file is evaluated once, as ESM. Without it, the require() attempt would evaluate the
// file a second time as CommonJS and poison the import of the body.
import { register } from 'tsx/esm/api';

register();
const { startWorker } = await import('./worker-body.ts');

/** piscina's task handler, available once this worker's copy of the model has loaded (or failed to). */
export default await startWorker();

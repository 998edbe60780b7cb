// The file `longshore bench` starts its load thread with (load-thread.ts). Plain JavaScript, so it runs the same from
// the built package (dist/, next to load-body.js) and from longshore's sources (src/, next to load-body.ts): module
// hooks of the main thread do not reach worker threads on Node 20, so from the sources it registers tsx itself.
import { existsSync } from 'node:fs';

const built = new URL('./load-body.js', import.meta.url);
let body = built;
if (!existsSync(built)) {
  const { register } = await import('tsx/esm/api');
  register();
  body = new URL('./load-body.ts', import.meta.url);
}
const { runThreadLoad } = await import(body.href);
await runThreadLoad();

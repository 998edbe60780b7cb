/**
 * Ctrl+C while a model's load() is still running: `longshore serve` says which models it waits for and that a second
 * Ctrl+C exits at once, and a second SIGINT (SIGTERM) ends it at once with exit code 130 (143).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServe } from '../helpers/cli.ts';
import { configYaml, fixture, writeConfig } from '../helpers/service.ts';

/** A model whose load() takes a minute: far longer than the drain waits. */
const SLOW = { class_path: fixture('slow.ts', 'SlowModel'), configuration: { delay_ms: 60_000 } };

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  describe(`longshore serve: ${signal} while a model loads`, () => {
    it(`names the models still loading on the first ${signal}, and exits at once with ${code} on the second`, async (t) => {
      const server = await startServe(['--config', writeConfig(configYaml([SLOW])), '--port', '0', '--host', '127.0.0.1']);
      t.after(() => server.kill());
      await server.waitForLog('model loading');
      const firstStop = server.stop(signal, 20_000); // sends the first signal; settles when the process exits
      const waiting = await server.waitForLog(`waiting up to 5 s for models still loading (slow); press Ctrl+C again (or send ${signal} again) to exit at once`, 5000);
      assert.equal(waiting.level, 40);
      assert.deepEqual(waiting.loading, ['slow']);
      const started = performance.now();
      const exit = await server.stop(signal, 3000);
      assert.deepEqual(exit, { code, signal: null });
      assert.deepEqual(await firstStop, exit);
      assert.ok(performance.now() - started < 2000, 'the second signal does not wait for the load');
      assert.ok(server.lines.some((line) => line.msg === 'second signal: exiting at once, without waiting for the drain or for models to finish loading'));
    });
  });
}

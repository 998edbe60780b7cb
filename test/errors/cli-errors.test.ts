/**
 * A bad log level on the `longshore serve` command line (flag or LONGSHORE_LOG_LEVEL) exits 2 with the reason on
 * stderr, before any model is loaded or any port is bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { EXAMPLE_CONFIG } from '../helpers/service.ts';

const CHOICES = 'Allowed choices are fatal, error, warn, info, debug, trace, silent.';

// Each test spawns the command (about 0.7 s); they are independent, so they run side by side.
describe('longshore serve with an invalid log level', { concurrency: true }, () => {
  it('exits 2 for --log-level with a value that is not a level, listing the choices', async () => {
    const result = await runCli(['serve', '--config', EXAMPLE_CONFIG, '--port', '0', '--log-level', 'loud']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `error: option '--log-level <level>' argument 'loud' is invalid. ${CHOICES}\n`);
  });

  it('exits 2 for an invalid LONGSHORE_LOG_LEVEL, naming the variable', async () => {
    const result = await runCli(['serve', '--config', EXAMPLE_CONFIG, '--port', '0'], { env: { LONGSHORE_LOG_LEVEL: 'verbose' } });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `error: option '--log-level <level>' value 'verbose' from env 'LONGSHORE_LOG_LEVEL' is invalid. ${CHOICES}\n`);
  });
});

/**
 * `longshore serve` on a port it cannot bind: one line that says what is wrong and how to fix it, exit 1, no stack.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { describeListenError } from '../../src/listen-errors.ts';
import { runCli } from '../helpers/cli.ts';
import { irisConfigYaml, writeConfig } from '../helpers/service.ts';

describe('longshore serve on a port that is taken', () => {
  let blocker: Server;
  let port: number;

  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });

  after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('exits 1 with one line naming the address and the --port fix, not a stack trace', async () => {
    const result = await runCli(['serve', '--config', writeConfig(irisConfigYaml()), '--host', '127.0.0.1', '--port', String(port), '--log-level', 'silent']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr,
      `longshore: cannot listen on 127.0.0.1:${port}: the port is already in use; stop what uses it, or choose another port with --port or LONGSHORE_PORT (server.port in the config)\n`,
    );
  });
});

describe('describeListenError', () => {
  const listenError = (code: string, address = '0.0.0.0', port = 80) => Object.assign(new Error(code), { code, syscall: 'listen', address, port });

  it('says what to change for a port that needs privileges and for an address no interface has', () => {
    assert.equal(
      describeListenError(listenError('EACCES')),
      'cannot listen on 0.0.0.0:80: permission denied (ports below 1024 need privileges); choose another port with --port or LONGSHORE_PORT (server.port in the config)',
    );
    assert.equal(
      describeListenError(listenError('EADDRNOTAVAIL', '192.0.2.1', 8000)),
      'cannot listen on 192.0.2.1:8000: no network interface has that address; fix --host or LONGSHORE_HOST (server.host)',
    );
  });

  it('leaves other errors to the generic report (undefined)', () => {
    assert.equal(describeListenError(listenError('EMFILE')), undefined);
    assert.equal(describeListenError(Object.assign(new Error('x'), { code: 'EADDRINUSE', syscall: 'connect' })), undefined);
    assert.equal(describeListenError(new Error('plain')), undefined);
  });
});

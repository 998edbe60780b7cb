/**
 * `tls:` (docs/cors-and-tls.md): with a self-signed certificate made here by openssl, the server speaks HTTPS only,
 * its url says https, and a client that trusts the certificate gets readiness and predictions; a file that cannot be
 * read, or a key that does not match, is a config error naming the key (and `longshore serve`/`validate` exit 2).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { request as httpsRequest } from 'node:https';
import { loadConfigFile } from '../../src/config/load.ts';
import { readTlsMaterial } from '../../src/http/tls.ts';
import { startServer } from '../../src/server.ts';
import { hasOpenssl, makeCertificate } from '../helpers/certificates.ts';
import { runCli } from '../helpers/cli.ts';
import { configYaml, fixture, silentLogger, tempDir, thrownConfigError, writeConfig } from '../helpers/service.ts';

const ECHO = { class_path: fixture('echo.ts', 'EchoModel') };

/** One request over HTTPS trusting `ca` (node:https; fetch cannot be given a CA without undici). */
function httpsCall(url: string, ca: Buffer, options: { method?: string; json?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const req = httpsRequest(url, { ca, method: options.method ?? 'GET', headers: body === undefined ? {} : { 'content-type': 'application/json' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const skip = hasOpenssl() ? false : 'openssl is not installed: the test makes its certificate with it';

describe('tls:', { skip }, () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    makeCertificate(dir);
  });

  it('serves HTTPS with the certificate: readiness and a prediction, url and log say https', async (t) => {
    const file = writeConfig(configYaml([ECHO], { tls: { cert_file: 'server.crt', key_file: 'server.key' } }), { dir });
    const server = await startServer({ loaded: loadConfigFile(file), host: '127.0.0.1', port: 0, logger: silentLogger() });
    t.after(() => server.close());
    await server.modelsLoaded;
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);

    const ca = readFileSync(join(dir, 'server.crt'));
    assert.deepEqual(await httpsCall(`${server.url}/api/health/ready`, ca), { status: 200, body: { readiness_status: 'ACCEPTING_TRAFFIC' } });
    assert.deepEqual(await httpsCall(`${server.url}/api/models/echo/prediction`, ca, { method: 'POST', json: { x: 5, name: 'tls' } }), {
      status: 200,
      body: { doubled: 10, greeting: 'hello tls' },
    });
    assert.equal((await httpsCall(`${server.url}/v2/health/ready`, ca)).status, 200);

    // A client that does not trust the certificate is refused by its own TLS check; plain HTTP gets no answer.
    await assert.rejects(fetch(`${server.url}/api/health/ready`));
    await assert.rejects(fetch(`${server.url.replace('https:', 'http:')}/api/health/ready`, { signal: AbortSignal.timeout(5000) }));
  });

  it('takes a ca_file', async (t) => {
    const file = writeConfig(configYaml([ECHO], { tls: { cert_file: 'server.crt', key_file: 'server.key', ca_file: 'server.crt' } }), { dir, name: 'with-ca.yaml' });
    const server = await startServer({ loaded: loadConfigFile(file), host: '127.0.0.1', port: 0, logger: silentLogger() });
    t.after(() => server.close());
    assert.equal((await httpsCall(`${server.url}/api/health`, readFileSync(join(dir, 'server.crt')))).status, 200);
  });

  it('names the key of a file that cannot be read, and of a key that does not match the certificate', () => {
    const missing = loadConfigFile(writeConfig(configYaml([ECHO], { tls: { cert_file: 'server.crt', key_file: 'nope.key', ca_file: 'nope-ca.pem' } }), { dir, name: 'missing.yaml' }));
    const message = thrownConfigError(() => readTlsMaterial(missing)).message;
    assert.match(message, /tls\.key_file: cannot read .*nope\.key \(ENOENT\)/);
    assert.match(message, /tls\.ca_file: cannot read .*nope-ca\.pem/);

    makeCertificate(dir, 'other');
    const mismatched = loadConfigFile(writeConfig(configYaml([ECHO], { tls: { cert_file: 'server.crt', key_file: 'other.key' } }), { dir, name: 'mismatch.yaml' }));
    assert.match(thrownConfigError(() => readTlsMaterial(mismatched)).message, /tls: Node cannot use these files: .*key values mismatch/);

    writeFileSync(join(dir, 'garbage.crt'), 'not a certificate');
    const garbage = loadConfigFile(writeConfig(configYaml([ECHO], { tls: { cert_file: 'garbage.crt', key_file: 'server.key' } }), { dir, name: 'garbage.yaml' }));
    assert.match(thrownConfigError(() => readTlsMaterial(garbage)).message, /tls: Node cannot use these files/);
  });

  it('makes `longshore serve` and `longshore validate` exit 2 on a missing file', async () => {
    const file = writeConfig(configYaml([ECHO], { tls: { cert_file: 'absent.crt', key_file: 'server.key' } }), { dir, name: 'absent.yaml' });
    for (const command of ['serve', 'validate']) {
      const result = await runCli([command, '--config', file, ...(command === 'serve' ? ['--port', '0'] : [])]);
      assert.equal(result.code, 2, `${command}: ${result.stderr}`);
      assert.match(result.stderr, /tls\.cert_file: cannot read .*absent\.crt/);
    }
  });
});

describe('cors: and tls: from environment variables', () => {
  it('are set by LONGSHORE_TLS__* and LONGSHORE_CORS__* like any section', () => {
    const env = { LONGSHORE_TLS__CERT_FILE: '/run/secrets/tls.crt', LONGSHORE_TLS__KEY_FILE: '/run/secrets/tls.key', LONGSHORE_CORS__ORIGINS: '[https://a.example.com]' };
    const { config } = loadConfigFile(writeConfig(configYaml([ECHO])), { env });
    assert.deepEqual(config.tls, { cert_file: '/run/secrets/tls.crt', key_file: '/run/secrets/tls.key' });
    assert.deepEqual(config.cors?.origins, ['https://a.example.com']);
    assert.equal(config.cors?.credentials, false);
  });
});

describe('tls: config problems', () => {
  it('needs cert_file and key_file', () => {
    const message = thrownConfigError(() => loadConfigFile(writeConfig(configYaml([ECHO], { tls: { cert_file: 'a.crt' } })))).message;
    assert.match(message, /tls.*key_file/);
  });
});

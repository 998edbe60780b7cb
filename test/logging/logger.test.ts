/**
 * The configured logger (src/logging/logger.ts) in-process: JSON lines to a file, redaction (configured paths and the
 * always-on credential headers), pretty lines, file creation, unusable destinations as config problems, and the
 * flush at server close.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger, flushLogger, LoggingSetupError } from '../../src/logging/logger.ts';
import { loggerFromConfig, startServer } from '../../src/server.ts';
import { tempDir, writeConfig } from '../helpers/service.ts';

type Line = Record<string, unknown>;

function readLines(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((text) => text !== '')
    .map((text) => JSON.parse(text) as Line);
}

const LEVEL_DEFAULTS = { level: 'info', format: 'json', redact: [], access_log: false } as const;

describe('createLogger', () => {
  it('writes parseable JSON lines with service, level and msg to a file relative to the config directory', async () => {
    const dir = tempDir();
    const logger = createLogger({ ...LEVEL_DEFAULTS, destination: 'server.log' }, dir);
    logger.info({ model: 'iris' }, 'first');
    logger.debug('below the level');
    logger.warn('second');
    await flushLogger(logger);
    const lines = readLines(join(dir, 'server.log'));
    assert.equal(lines.length, 2);
    assert.deepEqual(
      lines.map(({ service, level, msg }) => ({ service, level, msg })),
      [
        { service: 'longshore', level: 30, msg: 'first' },
        { service: 'longshore', level: 40, msg: 'second' },
      ],
    );
    assert.equal(lines[0]?.model, 'iris');
    assert.equal(typeof lines[0]?.time, 'number');
  });

  it('creates a missing directory and appends to an existing file', async () => {
    const dir = tempDir();
    const file = join(dir, 'logs/nested/deeper/server.log');
    const first = createLogger({ ...LEVEL_DEFAULTS, destination: 'logs/nested/deeper/server.log' }, dir);
    assert.ok(existsSync(file), 'the file is created when the logger is built');
    first.info('one');
    await flushLogger(first);
    const second = createLogger({ ...LEVEL_DEFAULTS, destination: file }, '/somewhere/else');
    second.info('two');
    await flushLogger(second);
    assert.deepEqual(
      readLines(file).map((line) => line.msg),
      ['one', 'two'],
    );
  });

  it('redacts configured paths and always the authorization and cookie headers', async () => {
    const dir = tempDir();
    const logger = createLogger({ ...LEVEL_DEFAULTS, destination: 'r.log', redact: ['body.password', 'user.*.token'] }, dir);
    logger.info(
      {
        req: { method: 'POST', headers: { authorization: 'Bearer s3cret', cookie: 'session=abc', 'x-request-id': 'r1' } },
        headers: { authorization: 'Basic czNjcmV0', cookie: 'a=b' },
        body: { password: 'hunter2', name: 'kept' },
        user: { alice: { token: 't0k3n' } },
      },
      'request',
    );
    await flushLogger(logger);
    const text = readFileSync(join(dir, 'r.log'), 'utf8');
    for (const secret of ['s3cret', 'session=abc', 'czNjcmV0', 'a=b', 'hunter2', 't0k3n']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    const [line] = readLines(join(dir, 'r.log')) as [{ req: { headers: Line }; headers: Line; body: Line; user: { alice: Line } }];
    assert.equal(line.req.headers.authorization, '[Redacted]');
    assert.equal(line.req.headers.cookie, '[Redacted]');
    assert.equal(line.req.headers['x-request-id'], 'r1');
    assert.equal(line.headers.authorization, '[Redacted]');
    assert.equal(line.headers.cookie, '[Redacted]');
    assert.equal(line.body.password, '[Redacted]');
    assert.equal(line.body.name, 'kept');
    assert.equal(line.user.alice.token, '[Redacted]');
  });

  it('pretty format writes human-readable lines, not JSON', async () => {
    const dir = tempDir();
    const logger = createLogger({ ...LEVEL_DEFAULTS, format: 'pretty', destination: 'pretty.log', redact: [] }, dir);
    logger.info({ model: 'iris', req: { headers: { authorization: 'Bearer s3cret' } } }, 'model ready');
    logger.error('it broke');
    await flushLogger(logger);
    const text = readFileSync(join(dir, 'pretty.log'), 'utf8');
    assert.match(text, /INFO.*: model ready/);
    assert.match(text, /ERROR.*: it broke/);
    assert.match(text, /model: "iris"/);
    assert.ok(!text.includes('s3cret'), 'redaction applies to pretty lines too');
    assert.ok(!text.includes('\u001b['), 'no color codes in a file');
    for (const line of text.split('\n').filter((l) => l.startsWith('['))) {
      assert.throws(() => JSON.parse(line), SyntaxError, `a pretty line parsed as JSON: ${line}`);
    }
  });

  it('throws a LoggingSetupError for a destination that cannot be opened', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), '');
    assert.throws(
      () => createLogger({ ...LEVEL_DEFAULTS, destination: 'a-file/server.log' }, dir),
      (error: unknown) => error instanceof LoggingSetupError && error.key === 'destination' && error.message.includes(join(dir, 'a-file/server.log')),
    );
  });

  it('throws a LoggingSetupError for a redact path pino cannot compile', () => {
    assert.throws(
      () => createLogger({ ...LEVEL_DEFAULTS, destination: 'stderr', redact: ['a..b'] }, tempDir()),
      (error: unknown) => error instanceof LoggingSetupError && error.key === 'redact' && /a\.\.b/.test(error.message),
    );
  });
});

describe('loggerFromConfig', () => {
  it('reports an unusable destination as a ConfigError at logging.destination, with the reason', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'blocker'), '');
    const file = writeConfig('logging:\n  level: warn\n  destination: blocker/longshore.log\n', { dir });
    assert.throws(
      () => loggerFromConfig(loadConfigFile(file)),
      (error: unknown) =>
        error instanceof ConfigError && new RegExp(`${file}:3 logging\\.destination: cannot open the log file .*blocker/longshore\\.log: E`).test(error.message),
    );
  });

  it('lets the overrides win over the file', async () => {
    const dir = tempDir();
    const file = writeConfig('logging:\n  level: error\n  format: pretty\n  destination: o.log\n', { dir });
    const logger = loggerFromConfig(loadConfigFile(file), { logLevel: 'info', logFormat: 'json' });
    logger.info('over');
    await flushLogger(logger);
    assert.deepEqual(
      readLines(join(dir, 'o.log')).map((line) => line.msg),
      ['over'],
    );
  });
});

describe('server shutdown', () => {
  it('flushes every line to a file destination by the time close() resolves', async () => {
    const dir = tempDir();
    const file = writeConfig('server:\n  port: 0\nhealth:\n  ready_without_models: true\nlogging:\n  destination: logs/server.log\n', { dir });
    const server = await startServer({ loaded: loadConfigFile(file) });
    await server.modelsLoaded;
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${server.url}/api/health/ready`)).status, 200);
    assert.equal((await fetch(`${server.url}/api/nowhere`)).status, 404);
    // Enough lines that writes are still in flight when close() starts.
    for (let i = 0; i < 20000; i++) server.app.log.info({ i }, 'filler');
    await server.close();
    const lines = readLines(join(dir, 'logs/server.log'));
    const msgs = lines.map((line) => line.msg);
    assert.equal(msgs.filter((msg) => msg === 'filler').length, 20000);
    assert.equal(msgs.at(-1), 'longshore stopped');
    assert.ok(msgs.includes('longshore listening'));
    assert.ok(lines.every((line) => line.service === 'longshore'));
  });
});

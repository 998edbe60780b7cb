/**
 * The LONGSHORE_<SECTION>__<KEY> environment overlay: laid over the file before validation, values read as YAML,
 * checked by the same schema, problems naming the variable; precedence flag > environment > file > default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig, withExtraModels, type Environment } from '../../src/config/load.ts';
import { startServe } from '../helpers/cli.ts';
import { thrownConfigError, writeConfig } from '../helpers/service.ts';

const FILE = '/srv/app/longshore.yaml';
const parse = (text: string, env: Environment) => parseConfig(text, FILE, '/srv/app', { env });
const messages = (text: string, env: Environment) => thrownConfigError(() => parse(text, env)).details.map((detail) => detail.message);

describe('LONGSHORE_<SECTION>__<KEY> sets a key of the config', () => {
  it('reads numbers and booleans as YAML scalars', () => {
    const { config } = parse('', {
      LONGSHORE_SERVER__BODY_LIMIT_BYTES: '2000000',
      LONGSHORE_METRICS__MODEL_LABELS: 'false',
      LONGSHORE_HEALTH__DEEP_CHECK_INTERVAL_MS: '5000',
      LONGSHORE_SERVER__MAX_HEAP_RATIO: '0.75',
    });
    assert.equal(config.server.body_limit_bytes, 2_000_000);
    assert.equal(config.metrics.model_labels, false);
    assert.equal(config.health.deep_check_interval_ms, 5000);
    assert.equal(config.server.max_heap_ratio, 0.75);
  });

  it('sets a nested key, making the mappings the file does not have', () => {
    const { config } = parse('', { LONGSHORE_DEFAULTS__BATCHING__MAX_BATCH_SIZE: '16', LONGSHORE_MONITORING__DESTINATION__TYPE: 'stdout' });
    assert.deepEqual(config.defaults, { batching: { max_batch_size: 16 } });
    assert.deepEqual(config.monitoring.destination, { type: 'stdout' });
  });

  it("changes one key of the file's mapping and keeps its others", () => {
    const { config } = parse('server:\n  port: 9000\n  host: 0.0.0.0\n', { LONGSHORE_SERVER__PORT: '9100' });
    assert.equal(config.server.port, 9100);
    assert.equal(config.server.host, '0.0.0.0');
  });

  it('keeps the text of a key that takes a string, even when it reads as another YAML type', () => {
    const { config } = parse('', { LONGSHORE_METRICS__ENV_VAR_NAME: 'TRUE', LONGSHORE_SERVER__HOST: '::1' });
    assert.equal(config.metrics.env_var_name, 'TRUE');
    assert.equal(config.server.host, '::1');
  });

  it('reads a number or a keyword for a key that takes either (server.processes)', () => {
    assert.equal(parse('', { LONGSHORE_SERVER__PROCESSES: '4' }).config.server.processes, 4);
    assert.equal(parse('', { LONGSHORE_SERVER__PROCESSES: 'auto' }).config.server.processes, 'auto');
  });

  it('reads a flow list for a list key', () => {
    const { config } = parse('', { LONGSHORE_LOGGING__REDACT: '[req.headers.x-api-key, res.body]' });
    assert.deepEqual(config.logging.redact, ['req.headers.x-api-key', 'res.body']);
  });

  it('reaches the effective entries: a default set by the environment applies to every model', () => {
    const { config } = parse('models:\n  - class_path: ./a.ts#A\n', { LONGSHORE_DEFAULTS__TIMEOUT_MS: '250', LONGSHORE_MONITORING__ENABLED: 'true' });
    assert.equal(config.models[0]?.serving.timeoutMs, 250);
    assert.equal(config.models[0]?.monitoring.enabled, true);
    assert.ok(Object.isFrozen(config.defaults));
  });

  it('leaves alone variables without a double underscore, such as the CLI flag variables', () => {
    const { config } = parse('server:\n  port: 9000\n', { LONGSHORE_PORT: '1', LONGSHORE_HOST: 'x', LONGSHORE_LOG_LEVEL: 'loud', LONGSHORE_CONFIG: 'x.yaml', LONGSHORE_SOMETHING: '1' });
    assert.equal(config.server.port, 9000);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.logging.level, 'info');
  });

  it('overlays nothing when no environment is passed', () => {
    assert.equal(parseConfig('server:\n  port: 9000\n', FILE, '/srv/app').config.server.port, 9000);
  });

  it('stays under the models of --model, which keep their own labels', () => {
    const base = parse('models: []\n', { LONGSHORE_DEFAULTS__MAX_QUEUE_SIZE: '9' });
    const merged = withExtraModels(base, [{ label: '--model m.onnx', entry: { model_path: './m.onnx' } }], '/srv/app');
    assert.equal(merged.config.models[0]?.serving.maxQueueSize, 9);
  });
});

describe('problems of the overlay name the variable', () => {
  it('names the variable, not a line of the file, for a value the schema refuses', () => {
    assert.deepEqual(messages('server:\n  port: 8000\n', { LONGSHORE_SERVER__PORT: '99999', LONGSHORE_METRICS__ENABLED: 'maybe' }), [
      'environment LONGSHORE_SERVER__PORT server.port: must be <= 65535',
      'environment LONGSHORE_METRICS__ENABLED metrics.enabled: must be boolean',
    ]);
  });

  it('names the variable for a rule across keys it breaks, and the file line for the file keys', () => {
    const found = messages('monitoring:\n  sample_rate: 0.5\n', { LONGSHORE_MONITORING__SAMPLE_EVERY: '3', LONGSHORE_MONITORING__DESTINATION__TYPE: 'file' });
    assert.deepEqual(found, [
      'environment LONGSHORE_MONITORING__SAMPLE_EVERY monitoring.sample_every: give either sample_rate (a fraction, at random) or sample_every (every Nth prediction), not both',
      "environment LONGSHORE_MONITORING__DESTINATION__TYPE monitoring.destination: a file destination needs 'path' (the JSONL file to write)",
    ]);
  });

  it('refuses an unknown key, suggesting the near variable and listing the keys of the section', () => {
    const [message] = messages('', { LONGSHORE_SERVER__BODY_LIMIT: '1' });
    assert.equal(
      message,
      "environment LONGSHORE_SERVER__BODY_LIMIT: server has no key 'body_limit'; did you mean LONGSHORE_SERVER__BODY_LIMIT_BYTES? " +
        '(keys: host, port, grpc_port, grpc_host, grpc_max_message_bytes, drain_delay_ms, shutdown_timeout_ms, body_limit_bytes, headers_timeout_ms, request_timeout_ms, keep_alive_timeout_ms, max_heap_ratio, repository_api, timing_headers, watch, max_loaded_models, processes)',
    );
  });

  it('refuses an unknown section, listing the sections', () => {
    assert.deepEqual(messages('', { LONGSHORE_METRIC__ENABLED: 'true' }), [
      "environment LONGSHORE_METRIC__ENABLED: the config has no section 'metric'; did you mean LONGSHORE_METRICS? (sections: server, logging, health, metrics, auth, limits, monitoring, tracing, defaults, cors, tls)",
    ]);
  });

  it('refuses a key below a value that is not a mapping, and the models list', () => {
    assert.deepEqual(messages('', { LONGSHORE_SERVER__PORT__NUMBER: '1', LONGSHORE_MODELS__0__CLASS_PATH: './a.ts' }), [
      'environment LONGSHORE_MODELS__0__CLASS_PATH: models are not set from the environment: list them in the config file, or pass --model or --model-dir',
      "environment LONGSHORE_SERVER__PORT__NUMBER: server.port is not a mapping, so it has no key 'number'",
    ]);
  });

  it('refuses a value that is not YAML', () => {
    const [message] = messages('', { LONGSHORE_LOGGING__REDACT: '[unclosed' });
    assert.match(message ?? '', /^environment LONGSHORE_LOGGING__REDACT: is not a valid YAML value: /);
  });

  it('reports the problems of the file and of the environment together', () => {
    const file = writeConfig('server:\n  port: high\n');
    const error = thrownConfigError(() => loadConfigFile(file, { env: { LONGSHORE_HEALTH__READY_WITHOUT_MODELS: 'yes please' } }));
    assert.deepEqual(error.details.map((detail) => detail.message), [
      'environment LONGSHORE_HEALTH__READY_WITHOUT_MODELS health.ready_without_models: must be boolean',
      `${file}:2 server.port: must be integer`,
    ]);
  });
});

describe('precedence: flag > environment > file > default', () => {
  it('takes the environment over the file, and the default where neither sets a key', () => {
    const { config } = parse('server:\n  port: 9000\n  drain_delay_ms: 100\n', { LONGSHORE_SERVER__PORT: '9100' });
    assert.deepEqual([config.server.port, config.server.drain_delay_ms, config.server.keep_alive_timeout_ms], [9100, 100, 72_000]);
  });

  it('longshore serve: the environment beats the file and a flag (or its variable) beats the environment', async () => {
    // The file's host cannot be bound and its log level hides the "listening" line: the server is heard only if the
    // environment's host wins over the file, and the flag's log level wins over the environment's.
    const file = writeConfig('server:\n  host: 256.0.0.1\n  port: 0\nlogging:\n  level: silent\nhealth:\n  ready_without_models: true\n');
    const env = { LONGSHORE_SERVER__HOST: '127.0.0.1', LONGSHORE_LOGGING__LEVEL: 'silent' };
    for (const [args, extra] of [[['--log-level', 'info'], {}], [[], { LONGSHORE_LOG_LEVEL: 'info' }]] as const) {
      const serve = await startServe(['--config', file, ...args], { env: { ...env, ...extra } });
      try {
        assert.match(serve.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      } finally {
        await serve.stop();
      }
    }
  });
});

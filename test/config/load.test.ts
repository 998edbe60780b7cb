/**
 * config/load.ts: parsing, defaults, freezing, and problems reported as `file:line key.path: message`
 * (finding and reading files: config-files.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configError, formatKeyPath, parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';

const FILE = '/srv/app/longshore.yaml';

/** The ConfigError parseConfig throws for `text` (fails the test if it does not throw one). */
function configProblems(text: string): ConfigError {
  try {
    parseConfig(text, FILE, '/srv/app');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('parseConfig accepted an invalid config');
}

/** Every `server:` key with its default: any new key with a default belongs here. */
const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  grpc_max_message_bytes: 256 * 1024 * 1024,
  drain_delay_ms: 0,
  shutdown_timeout_ms: 10_000,
  body_limit_bytes: 10 * 1024 * 1024,
  headers_timeout_ms: 10_000,
  request_timeout_ms: 60_000,
  keep_alive_timeout_ms: 72_000,
  max_heap_ratio: 0.9,
  repository_api: false,
  timing_headers: false,
  watch: false,
  max_loaded_models: 0,
  processes: 1,
};

/** What a module entry that sets no serving or monitoring key resolves to (its runtime, the schema's and built-in defaults). */
const RESOLVED_MODULE = {
  runtime: 'module',
  workers: 0,
  serving: { policy: 'off', maxBatchSize: 64, maxLatencyMs: 2, maxQueueSize: 4096, maxConcurrency: undefined, timeoutMs: 60_000, warmup: 1 },
  monitoring: { enabled: false, sample_rate: 1, batch_size: 100, flush_interval_ms: 1000, max_buffer: 10_000, include: 'both', destination: { type: 'stdout' } },
};

describe('parseConfig: valid files', () => {
  it('fills every default for an empty file', () => {
    const { config } = parseConfig('', FILE, '/srv/app');
    assert.deepEqual(config, {
      service_title: 'longshore',
      description: '',
      version: '0.1.0',
      server: SERVER_DEFAULTS,
      logging: { level: 'info', format: 'json', destination: 'stdout', redact: [], access_log: false },
      health: { ready_without_models: false, deep_check_interval_ms: 10000 },
      metrics: {
        enabled: true,
        model_labels: true,
        process_metrics: true,
        should_group_status_codes: true,
        should_ignore_untemplated: false,
        should_group_untemplated: true,
        should_round_latency_decimals: false,
        round_latency_decimals: 4,
        should_respect_env_var: false,
        env_var_name: 'ENABLE_METRICS',
        should_instrument_requests_inprogress: false,
        inprogress_name: 'http_requests_inprogress',
        inprogress_labels: false,
        excluded_handlers: [],
      },
      limits: { predict: { max_records: 10_000, max_tensor_elements: 16 * 1024 * 1024 }, read: {}, metrics: {}, admin: {} },
      monitoring: {},
      tracing: {
        enabled: false,
        endpoint: 'http://localhost:4318/v1/traces',
        sampling_ratio: 1,
        headers: {},
        export_interval_ms: 5000,
        export_timeout_ms: 10_000,
        max_export_batch_size: 512,
        max_queue_size: 2048,
      },
      defaults: {},
      models: [],
    });
  });

  it('fills the defaults of each model entry and keeps the given values', () => {
    const { config } = parseConfig(
      [
        'service_title: Demo',
        'server:',
        '  port: 9001',
        'models:',
        '  - class_path: ./a.ts#A',
        '  - class_path: ./b.ts',
        '    create_endpoint: false',
        '    required: false',
        '    qualified_name: b-model',
        '    version: "3"',
        '    configuration:',
        '      threshold: 0.5',
      ].join('\n'),
      FILE,
      '/srv/app',
    );
    assert.equal(config.service_title, 'Demo');
    assert.deepEqual(config.server, { ...SERVER_DEFAULTS, port: 9001 });
    assert.deepEqual(config.models, [
      { class_path: './a.ts#A', create_endpoint: true, required: true, configuration: {}, ...RESOLVED_MODULE },
      {
        class_path: './b.ts',
        create_endpoint: false,
        required: false,
        qualified_name: 'b-model',
        version: '3',
        configuration: { threshold: 0.5 },
        ...RESOLVED_MODULE,
      },
    ]);
  });

  it('returns the file and dir it was given', () => {
    const loaded = parseConfig('{}', FILE, '/srv/app');
    assert.equal(loaded.file, FILE);
    assert.equal(loaded.dir, '/srv/app');
  });

  it('freezes the whole result, including nested mappings and model configurations', () => {
    const { config } = parseConfig('models:\n  - class_path: ./a.ts\n    configuration:\n      nested: {k: 1}\n', FILE, '/srv/app');
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.server));
    assert.ok(Object.isFrozen(config.models));
    assert.ok(Object.isFrozen(config.models[0]));
    assert.ok(Object.isFrozen(config.models[0]?.configuration));
    assert.ok(Object.isFrozen(config.models[0]?.configuration.nested));
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.models as unknown[]).push({});
    }, TypeError);
  });
});

describe('parseConfig: problems name the file, key path and line', () => {
  it('reports a value of the wrong type at its line', () => {
    const error = configProblems('service_title: ok\nserver:\n  port: "eighty"\n');
    assert.deepEqual(error.details, [{ path: 'server.port', message: `${FILE}:3 server.port: must be integer` }]);
  });

  it('reports a model entry field of the wrong type at its line', () => {
    const error = configProblems('models:\n  - class_path: ./a.ts\n    create_endpoint: "yes"\n');
    assert.deepEqual(error.details, [
      { path: 'models[0].create_endpoint', message: `${FILE}:3 models[0].create_endpoint: must be boolean` },
    ]);
  });

  it('reports an unknown top-level key with a scalar value at its line', () => {
    const error = configProblems('service_title: x\nverison: 2\n');
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'verison');
    assert.match(error.details[0]?.message ?? '', /^\/srv\/app\/longshore\.yaml:2 verison: unknown key 'verison'/);
  });

  it('reports an unknown key whose value is a block mapping at the line of the key', () => {
    const error = configProblems('service_title: x\nserverx:\n  port: 1\n');
    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /^\/srv\/app\/longshore\.yaml:2 serverx: unknown key 'serverx'/);
  });

  it('reports an unknown key inside a model entry at the line of the key', () => {
    const error = configProblems('models:\n  - class_path: ./a.ts\n    configurationn:\n      a: 1\n');
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'models[0].configurationn');
    assert.match(error.details[0]?.message ?? '', /:3 models\[0\]\.configurationn: unknown key 'configurationn'/);
  });

  it('lists the allowed keys when a key is unknown', () => {
    const error = configProblems('models:\n  - class_path: ./a.ts\n    classpath: ./b.ts\n');
    const message = error.details[0]?.message ?? '';
    for (const key of ['class_path', 'create_endpoint', 'required', 'configuration', 'qualified_name']) {
      assert.ok(message.includes(key), `"${message}" should list the allowed key ${key}`);
    }
  });

  it('reports a missing class_path at the line of its model entry', () => {
    const error = configProblems('service_title: x\nmodels:\n  - create_endpoint: true\n');
    assert.equal(error.details.length, 1);
    const message = error.details[0]?.message ?? '';
    assert.ok(message.startsWith(`${FILE}:3 models[0]`), message);
    assert.match(message, /missing required key 'class_path'/);
  });

  it('reports a missing class_path together with the other problems of the file', () => {
    const error = configProblems('server:\n  port: high\nmodels:\n  - create_endpoint: false\n');
    assert.deepEqual(
      error.details.map((d) => d.message.slice(0, d.message.indexOf(': '))),
      [`${FILE}:2 server.port`, `${FILE}:4 models[0]`],
      error.message,
    );
    assert.match(error.details[1]?.message ?? '', /class_path/);
  });

  it('reports a bad logging level once, listing the allowed levels', () => {
    const error = configProblems('logging:\n  level: loud\n');
    assert.equal(error.details.length, 1, `one problem expected, got: ${error.details.map((d) => d.message).join(' | ')}`);
    const message = error.details[0]?.message ?? '';
    assert.ok(message.startsWith(`${FILE}:2 logging.level:`), message);
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) assert.ok(message.includes(level), message);
  });

  it('reports every problem of the file at once, one detail each', () => {
    const error = configProblems(
      ['server:', '  port: 70000', '  body_limit_bytes: 0', 'models:', '  - class_path: ""', '    qualified_name: "has space"'].join('\n'),
    );
    assert.deepEqual(
      error.details.map((d) => d.path),
      ['server.port', 'server.body_limit_bytes', 'models[0].class_path', 'models[0].qualified_name'],
    );
    assert.deepEqual(
      error.details.map((d) => Number(/\.yaml:(\d+) /.exec(d.message)?.[1])),
      [2, 3, 5, 6],
    );
    for (const detail of error.details) assert.ok(error.message.includes(detail.message), 'the message lists every detail');
  });

  it('rejects a file whose top level is not a mapping', () => {
    const error = configProblems('- a\n- b\n');
    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /^\/srv\/app\/longshore\.yaml:1 \(top level\): the file must hold a mapping/);
  });

  it('reports a YAML syntax error with its line number', () => {
    const error = configProblems('service_title: x\nmodels:\n  - class_path: [unclosed\n');
    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /^\/srv\/app\/longshore\.yaml:\d+: YAML syntax error: /);
  });

  it('reports a duplicated YAML key with its line number', () => {
    const error = configProblems('service_title: x\nservice_title: y\n');
    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /^\/srv\/app\/longshore\.yaml:2: YAML syntax error: .*unique/);
  });

  it('formats problems found later (by the registry) with the same file:line key: message shape', () => {
    const loaded = parseConfig('models:\n  - class_path: ./a.ts#A\n', FILE, '/srv/app');
    assert.deepEqual(loaded.problem(['models', 0, 'class_path'], 'file not found'), {
      path: 'models[0].class_path',
      message: `${FILE}:2 models[0].class_path: file not found`,
    });
    assert.deepEqual(loaded.problem(['models', 0, 'configuration'], 'bad'), {
      path: 'models[0].configuration',
      message: `${FILE}:2 models[0].configuration: bad`,
    });
  });
});

describe('parseConfig: rules across the keys of a model entry', () => {
  it('accepts an ONNX entry given by model_path alone', () => {
    const { config } = parseConfig('models:\n  - model_path: ./m.onnx\n    intra_op_threads: 2\n', FILE, '/srv/app');
    const entry = config.models[0];
    assert.equal(entry?.runtime, 'onnx');
    assert.equal(entry.model_path, './m.onnx');
    assert.equal(entry.intra_op_threads, 2);
  });

  it('rejects an entry with both model_path and class_path, at the class_path line', () => {
    const error = configProblems('models:\n  - model_path: ./m.onnx\n    class_path: ./a.ts#A\n');
    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /^\/srv\/app\/longshore\.yaml:3 models\[0\]\.class_path: /);
  });

  it('rejects ONNX-only keys on a TypeScript model entry, at their lines', () => {
    const error = configProblems('models:\n  - class_path: ./a.ts#A\n    intra_op_threads: 2\n    outputs: [label]\n');
    assert.deepEqual(
      error.details.map((d) => d.message.slice(0, d.message.indexOf(': '))),
      [`${FILE}:3 models[0].intra_op_threads`, `${FILE}:4 models[0].outputs`],
    );
  });

  it('rejects runtime: onnx without a model_path', () => {
    const error = configProblems('models:\n  - runtime: onnx\n');
    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /:2 models\[0\]: missing required key 'model_path'/);
  });

  it('rejects an unknown runtime once, listing the runtimes', () => {
    const error = configProblems('models:\n  - runtime: tflite\n    model_path: ./m.tflite\n');
    assert.deepEqual(error.details.map((d) => d.message), [`${FILE}:2 models[0].runtime: must be one of "module", "onnx", "transformers", "graph"`]);
  });
});

describe('formatKeyPath and configError', () => {
  it('formats key paths with dots and indexes', () => {
    assert.equal(formatKeyPath(['models', 0, 'class_path']), 'models[0].class_path');
    assert.equal(formatKeyPath(['server', 'port']), 'server.port');
    assert.equal(formatKeyPath([]), '');
  });

  it('builds one ConfigError whose message has a line per detail', () => {
    const error = configError('/x.yaml', [
      { path: 'a', message: '/x.yaml:1 a: bad' },
      { path: 'b', message: '/x.yaml:2 b: worse' },
    ]);
    assert.equal(error.type, 'ConfigError');
    assert.equal(error.message, 'invalid configuration in /x.yaml:\n  /x.yaml:1 a: bad\n  /x.yaml:2 b: worse');
    assert.equal(error.details.length, 2);
  });
});

describe('parseConfig: observability keys across each other', () => {
  it('names the line of an excluded_handlers pattern that is not a regular expression', () => {
    assert.throws(
      () => parseConfig('metrics:\n  excluded_handlers:\n    - ^/api/health\n    - "(unclosed"\n', FILE, '/srv/app'),
      (error: ConfigError) => {
        assert.match(error.details[0]?.message ?? '', /:4 metrics\.excluded_handlers\[1\]: "\(unclosed" is not a valid regular expression/);
        return true;
      },
    );
  });

  it('refuses sample_rate with sample_every, a file destination without path and an http one without a URL', () => {
    assert.throws(
      () =>
        parseConfig(
          'monitoring:\n  sample_rate: 0.5\n  sample_every: 2\n  destination: {type: file}\nmodels:\n  - class_path: ./a.ts\n    monitoring:\n      destination: {type: http}\n',
          FILE,
          '/srv/app',
        ),
      (error: ConfigError) => {
        const messages = error.details.map((detail) => detail.message).join('\n');
        assert.match(messages, /monitoring\.sample_every: give either sample_rate .* or sample_every/);
        assert.match(messages, /monitoring\.destination: a file destination needs 'path'/);
        assert.match(messages, /models\[0\]\.monitoring\.destination: an http destination needs 'url'/);
        return true;
      },
    );
  });
});

/**
 * Every key of config.metrics has its effect: enabled (and the 404 when off), process_metrics, model_labels, the
 * status grouping, untemplated requests (grouped, ignored, or left out), latency rounding, the environment variable
 * switch, the in-progress gauge (with and without labels, custom name) and excluded_handlers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiTemplate } from '../../src/metrics/http-metrics.ts';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';
import { labelValues, parseExposition, samplesOf, valueOf, type Family } from './exposition.ts';

const ECHO = { class_path: fixture('echo.ts', 'EchoModel') };
const DELAYED = { class_path: fixture('delayed-predict.ts', 'DelayedPredictModel'), configuration: { delay_ms: 300 } };
const PREDICTION = '/api/models/{name}/prediction';

async function withService(metrics: Record<string, unknown>, fn: (service: TestService) => Promise<void>, models: Record<string, unknown>[] = [ECHO]): Promise<void> {
  const service = await buildService(configYaml(models, { metrics }));
  try {
    await fn(service);
  } finally {
    await service.close();
  }
}

async function scrape(service: TestService): Promise<Map<string, Family>> {
  const response = await service.app.inject({ url: '/metrics' });
  assert.equal(response.statusCode, 200, response.body);
  return parseExposition(response.body);
}

/** A little traffic: one prediction, one health check, one unknown URL. */
async function traffic(service: TestService): Promise<void> {
  assert.equal((await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: { x: 1, name: 'a' } })).statusCode, 200);
  assert.equal((await service.app.inject({ url: '/api/health' })).statusCode, 200);
  assert.equal((await service.app.inject({ url: '/nope/123' })).statusCode, 404);
}

describe('metrics options', () => {
  it('enabled: false serves no /metrics (404 RouteNotFoundError) and measures no request', async () => {
    await withService({ enabled: false }, async (service) => {
      await traffic(service);
      const response = await service.app.inject({ url: '/metrics' });
      assert.equal(response.statusCode, 404);
      assert.equal((response.json() as { type: string }).type, 'RouteNotFoundError');
      assert.equal(service.service.metrics.registry.getSingleMetric('http_requests_total'), undefined);
      assert.ok(!('/metrics' in service.app.openapiDocument().paths));
    });
  });

  it('enabled (the default) documents /metrics under the monitoring tag', async () => {
    await withService({}, async (service) => {
      await service.app.ready();
      const document = service.app.openapiDocument() as { paths: Record<string, { get?: { tags?: string[] } }> };
      assert.deepEqual(document.paths['/metrics']?.get?.tags, ['monitoring']);
    });
  });

  it('process_metrics: false leaves out the Node process metrics, true keeps them', async () => {
    await withService({ process_metrics: false }, async (service) => {
      const metrics = await scrape(service);
      assert.ok(![...metrics.keys()].some((name) => name.startsWith('process_') || name.startsWith('nodejs_')), [...metrics.keys()].join(' '));
    });
    await withService({ process_metrics: true }, async (service) => {
      const metrics = await scrape(service);
      assert.ok(metrics.has('process_cpu_seconds_total') && metrics.has('nodejs_eventloop_lag_seconds'));
    });
  });

  it('model_labels: false removes the model and version labels (series summed over models)', async () => {
    const models = [ECHO, { ...ECHO, qualified_name: 'echo2' }];
    await withService(
      { model_labels: false },
      async (service) => {
        for (const name of ['echo', 'echo2']) await service.app.inject({ method: 'POST', url: `/api/models/${name}/prediction`, payload: { x: 1, name: 'a' } });
        const metrics = await scrape(service);
        for (const name of ['longshore_requests_total', 'longshore_model_ready', 'longshore_model_load_duration_seconds', 'longshore_queue_depth', 'longshore_inference_duration_seconds_count']) {
          const samples = samplesOf(metrics, name);
          assert.ok(samples.length > 0, name);
          for (const sample of samples) assert.ok(!('model' in sample.labels) && !('version' in sample.labels), `${name} ${JSON.stringify(sample.labels)}`);
        }
        assert.equal(valueOf(metrics, 'longshore_requests_total', { operation: 'predict' }), 2);
        assert.equal(valueOf(metrics, 'longshore_model_ready'), 2, 'the number of ready models');
      },
      models,
    );
    await withService(
      { model_labels: true },
      async (service) => {
        await service.app.inject({ method: 'POST', url: '/api/models/echo2/prediction', payload: { x: 1, name: 'a' } });
        const metrics = await scrape(service);
        assert.deepEqual(labelValues(metrics, 'longshore_requests_total', 'model'), ['echo', 'echo2']);
        assert.equal(valueOf(metrics, 'longshore_requests_total', { model: 'echo2', version: '2.1.0', operation: 'predict' }), 1);
      },
      models,
    );
  });

  it('should_group_status_codes: false labels the exact status code', async () => {
    await withService({ should_group_status_codes: false }, async (service) => {
      await traffic(service);
      const metrics = await scrape(service);
      assert.deepEqual(labelValues(metrics, 'http_requests_total', 'status'), ['200', '404']);
      assert.equal(valueOf(metrics, 'http_requests_total', { method: 'POST', status: '200', handler: PREDICTION }), 1);
    });
    await withService({}, async (service) => {
      await traffic(service);
      assert.deepEqual(labelValues(await scrape(service), 'http_requests_total', 'status'), ['2xx', '4xx']);
    });
  });

  it('untemplated requests: grouped under none by default, left out with should_ignore_untemplated or without grouping', async () => {
    await withService({}, async (service) => {
      await traffic(service);
      assert.equal(valueOf(await scrape(service), 'http_requests_total', { method: 'GET', status: '4xx', handler: 'none' }), 1);
    });
    for (const metricsConfig of [{ should_ignore_untemplated: true }, { should_group_untemplated: false }]) {
      await withService(metricsConfig, async (service) => {
        await traffic(service);
        const metrics = await scrape(service);
        assert.deepEqual(labelValues(metrics, 'http_requests_total', 'handler'), ['/api/health', PREDICTION], JSON.stringify(metricsConfig));
        assert.equal(valueOf(metrics, 'http_request_duration_highr_seconds_count'), 2);
      });
    }
  });

  it('should_round_latency_decimals rounds durations to round_latency_decimals', async () => {
    await withService({ should_round_latency_decimals: true, round_latency_decimals: 0 }, async (service) => {
      await traffic(service);
      const metrics = await scrape(service);
      assert.equal(valueOf(metrics, 'http_request_duration_highr_seconds_count'), 3);
      assert.equal(valueOf(metrics, 'http_request_duration_highr_seconds_sum'), 0, 'every fast request rounds to 0 s');
    });
    await withService({}, async (service) => {
      await traffic(service);
      assert.ok((valueOf(await scrape(service), 'http_request_duration_highr_seconds_sum') ?? 0) > 0);
    });
  });

  it('should_respect_env_var: metrics only when env_var_name is true (or 1), as the instrumentator reads it', async () => {
    const variable = 'LONGSHORE_TEST_METRICS_SWITCH';
    const config = { should_respect_env_var: true, env_var_name: variable };
    try {
      for (const [value, served] of [[undefined, false], ['false', false], ['TRUE', true], ['1', true]] as const) {
        if (value === undefined) delete process.env[variable];
        else process.env[variable] = value;
        await withService(config, async (service) => {
          await traffic(service);
          const response = await service.app.inject({ url: '/metrics' });
          assert.equal(response.statusCode, served ? 200 : 404, `${variable}=${value}`);
          assert.equal(service.service.metrics.registry.getSingleMetric('http_requests_total') !== undefined, served);
        });
      }
    } finally {
      delete process.env[variable];
    }
  });

  it('should_instrument_requests_inprogress: a gauge of requests in progress, unlabelled by default', async () => {
    await withService(
      { should_instrument_requests_inprogress: true, inprogress_name: 'busy_requests' },
      async (service) => {
        assert.equal(valueOf(await scrape(service), 'busy_requests'), 1, 'the scrape itself');
        const pending = service.app.inject({ method: 'POST', url: '/api/models/delayed/prediction', payload: { value: 1 } });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const during = await scrape(service);
        assert.equal(during.get('busy_requests')?.type, 'gauge');
        assert.equal(valueOf(during, 'busy_requests'), 2, 'the prediction and the scrape itself');
        assert.equal((await pending).statusCode, 200);
        assert.equal(valueOf(await scrape(service), 'busy_requests'), 1, 'only the scrape');
      },
      [DELAYED],
    );
  });

  it('inprogress_labels labels the in-progress gauge with method and handler', async () => {
    await withService(
      { should_instrument_requests_inprogress: true, inprogress_labels: true },
      async (service) => {
        const pending = service.app.inject({ method: 'POST', url: '/api/models/delayed/prediction', payload: { value: 1 } });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const during = await scrape(service);
        assert.equal(valueOf(during, 'http_requests_inprogress', { method: 'POST', handler: PREDICTION }), 1);
        assert.equal(valueOf(during, 'http_requests_inprogress', { method: 'GET', handler: '/metrics' }), 1);
        await pending;
        assert.equal(valueOf(await scrape(service), 'http_requests_inprogress', { method: 'POST', handler: PREDICTION }), 0);
      },
      [DELAYED],
    );
    await withService({}, async (service) => {
      assert.ok(!(await scrape(service)).has('http_requests_inprogress'), 'off by default');
    });
  });

  it('excluded_handlers leaves out the handlers whose template matches a pattern', async () => {
    await withService({ excluded_handlers: ['^/api/health', 'metrics$'], should_instrument_requests_inprogress: true, inprogress_labels: true }, async (service) => {
      await traffic(service);
      await scrape(service);
      const metrics = await scrape(service);
      assert.deepEqual(labelValues(metrics, 'http_requests_total', 'handler'), [PREDICTION, 'none']);
      assert.deepEqual(labelValues(metrics, 'http_requests_inprogress', 'handler'), [PREDICTION, 'none']);
      assert.equal(valueOf(metrics, 'http_request_duration_highr_seconds_count'), 2);
    });
    // An untemplated request is matched by its path, as the instrumentator does.
    await withService({ excluded_handlers: ['^/nope'] }, async (service) => {
      await traffic(service);
      assert.deepEqual(labelValues(await scrape(service), 'http_requests_total', 'handler'), ['/api/health', PREDICTION]);
    });
  });
});

describe('openApiTemplate', () => {
  it('turns fastify route syntax into OpenAPI templates', () => {
    assert.equal(openApiTemplate('/api/models/:name/prediction'), '/api/models/{name}/prediction');
    assert.equal(openApiTemplate('/v2/models/:name/versions/:version/infer'), '/v2/models/{name}/versions/{version}/infer');
    assert.equal(openApiTemplate('/files/:id(^\\d+)/raw'), '/files/{id}/raw');
    assert.equal(openApiTemplate('/docs/static/*'), '/docs/static/*');
    assert.equal(openApiTemplate('/time::now'), '/time:now');
  });
});

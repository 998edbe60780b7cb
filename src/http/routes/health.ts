/**
 * Health probes with rest-model-service's URLs and bodies: live, ready (every required model loaded) and startup
 * (every model's load finished).
 */
import type { FastifyInstance } from 'fastify';
import type { Dataplane } from '../../dataplane/dataplane.js';

function statusSchema(key: string, values: string[], description: string) {
  return {
    description,
    type: 'object',
    properties: { [key]: { type: 'string', enum: values } },
    required: [key],
  };
}

export function buildHealthRoutes(app: FastifyInstance, dataplane: Dataplane): void {
  const live = statusSchema('health_status', ['HEALTHY'], 'The process is up and serving.');
  app.get('/api/health', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: live } } }, async () => ({
    health_status: 'HEALTHY',
  }));

  const ready = statusSchema('readiness_status', ['ACCEPTING_TRAFFIC', 'REFUSING_TRAFFIC'], 'Whether every required model is loaded.');
  const refusing = {
    ...ready,
    properties: {
      ...ready.properties,
      problems: {
        type: 'array',
        items: { type: 'string' },
        description:
          'Why the server refuses traffic. With deep=true: every reason (models not ready, failing self-tests, ...). Without it: only ' +
          'the reasons of a running server (a model with every call slot stuck past its deadline, the heap past server.max_heap_ratio).',
      },
    },
  };
  app.get<{ Querystring: { deep?: boolean } }>(
    '/api/health/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 only when every required model is ready',
        description:
          "With deep=true the required models' self-tests run again (at most once per health.deep_check_interval_ms; probes in between get the last result), and a failing one answers 503 with the problems. " +
          'Also 503 (with problems) while a required model has every call slot stuck past its deadline, or while the heap is past server.max_heap_ratio of its limit.',
        querystring: { type: 'object', properties: { deep: { type: 'boolean', default: false, description: "Re-run the models' self-tests." } } },
        response: { 200: ready, 503: refusing },
      },
    },
    async (request, reply) => {
      if (request.query.deep !== true) {
        if (dataplane.ready()) return { readiness_status: 'ACCEPTING_TRAFFIC' };
        // The lifecycle states (loading, failed, draining) keep rest-model-service's body; run-time trouble says why.
        const problems = dataplane.runtimeProblems();
        return reply.code(503).send(problems.length > 0 ? { readiness_status: 'REFUSING_TRAFFIC', problems } : { readiness_status: 'REFUSING_TRAFFIC' });
      }
      const problems = await dataplane.deepReadinessProblems();
      if (problems.length === 0) return { readiness_status: 'ACCEPTING_TRAFFIC' };
      return reply.code(503).send({ readiness_status: 'REFUSING_TRAFFIC', problems });
    },
  );

  const startup = statusSchema('startup_status', ['STARTED', 'NOT_STARTED'], 'Whether every model has finished loading (or failed to).');
  app.get(
    '/api/health/startup',
    { schema: { tags: ['health'], summary: 'Startup: 200 once every model has finished loading', response: { 200: startup, 503: startup } } },
    async (_request, reply) => {
      if (dataplane.started()) return { startup_status: 'STARTED' };
      return reply.code(503).send({ startup_status: 'NOT_STARTED' });
    },
  );
}

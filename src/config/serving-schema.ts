/**
 * The serving keys of a model (batching, limits, deadline), shared by model entries and `defaults:`, and the one
 * table of their built-in defaults. serving.ts resolves them into a model's ServingSettings.
 */
import { Type } from '@sinclair/typebox';

export const BATCHING_POLICIES = ['eager', 'timed', 'off'] as const;

export type BatchingPolicy = (typeof BATCHING_POLICIES)[number];

/** Built-in serving defaults, used where neither the model entry nor `defaults:` sets a key. */
export const BUILTIN_SERVING = {
  /** ONNX graphs stack rows natively, so coalescing is free; a code model's predictBatch may not be faster than predict. */
  policy: { onnx: 'eager', transformers: 'eager', module: 'off', graph: 'off' },
  max_batch_size: 64,
  max_latency_ms: 2,
  max_queue_size: 4096,
  /** One batch in flight when batching (it already uses the model fully); unlimited when calls run one by one. */
  max_concurrency: { batching: 1, off: 0 },
  timeout_ms: 60_000,
  /** The load-time self-test is the warmup: one run of the examples (docs/self-tests.md#warmup). */
  warmup: 1,
} as const;

/** The serving knobs of a model: how its calls are batched, limited and timed out. Shared by entries and `defaults`. */
export function servingKeys(scope: 'entry' | 'defaults') {
  const inherit = scope === 'entry' ? ' Default: the value under `defaults`, else the built-in default.' : '';
  return {
    batching: Type.Optional(
      Type.Object(
        {
          policy: Type.Optional(
            Type.Union(
              BATCHING_POLICIES.map((policy) => Type.Literal(policy)),
              {
                description:
                  '`eager`: what is queued when the model is free runs at once as one batch, never waiting. `timed`: wait ' +
                  'up to max_latency_ms (from the oldest waiting request) for max_batch_size rows. `off`: one model call per ' +
                  'request. Built-in default: eager for ONNX and Hugging Face models, off for code models and graphs.' +
                  inherit,
              },
            ),
          ),
          max_batch_size: Type.Optional(
            Type.Integer({
              minimum: 1,
              description: `Most rows in one batch, counting every row of every request (a /predictions call of 10 records is 10 rows). A larger request runs alone. Built-in default ${BUILTIN_SERVING.max_batch_size}.${inherit}`,
            }),
          ),
          max_latency_ms: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 60_000,
              description: `timed policy: longest the oldest waiting request waits for the batch to fill. Built-in default ${BUILTIN_SERVING.max_latency_ms}.${inherit}`,
            }),
          ),
        },
        { additionalProperties: false, description: 'How concurrent requests are gathered into one model call.' },
      ),
    ),
    max_concurrency: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Most batches (or calls) running at once; 0 means no limit. Built-in default: the model\'s workers when set, else 1 when ' +
          `batching, no limit when batching is off.${inherit}`,
      }),
    ),
    max_queue_size: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: `Most rows waiting to run. A request that would go beyond is refused at once with 503 QueueFullError and Retry-After. Built-in default ${BUILTIN_SERVING.max_queue_size}.${inherit}`,
      }),
    ),
    timeout_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: `Longest a request may take in the model, time spent queued included; past it the caller gets 504 DeadlineExceededError. 0: no limit. Clients may ask for less (x-request-timeout-ms, V2 timeout). Built-in default ${BUILTIN_SERVING.timeout_ms}.${inherit}`,
      }),
    ),
    warmup: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Times the self-test examples run after load, before the model turns ready, each run checked (the first is the self-test; docs/self-tests.md#warmup). ' +
          'Without examples: an ONNX model runs a generated input (zeros) instead, a code model nothing. 0: no warmup and no self-test at load. ' +
          `Built-in default ${BUILTIN_SERVING.warmup}.${inherit}`,
      }),
    ),
  };
}

export const ServingDefaultsSchema = Type.Object(servingKeys('defaults'), {
  additionalProperties: false,
  default: {},
  description: 'Serving settings for every model that does not set its own.',
});

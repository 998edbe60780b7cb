/**
 * The `limits:` section of `longshore.yaml` (part of the one schema in schema.ts): limits per route group, the groups
 * being the scopes of `auth:` (predict, read, metrics, admin; http/auth.ts classifies every route). The health probes
 * belong to no group and are never limited. docs/security.md#limits.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Records per call of POST /api/models/{name}/predictions (and examples per /score call) unless configured. */
export const DEFAULT_MAX_RECORDS = 10_000;
/** Tensor elements summed over a V2 request's inputs unless configured: 16 Mi (64 MiB of FP32). */
export const DEFAULT_MAX_TENSOR_ELEMENTS = 16 * 1024 * 1024;

const BodyLimit = Type.Integer({
  minimum: 1,
  description: "Largest request body of this group's routes, in bytes (413 PayloadTooLargeError). Default: server.body_limit_bytes.",
});

export const RateLimitSchema = Type.Object(
  {
    max: Type.Integer({ minimum: 1, description: 'Requests a client may make to the routes of this group per window; past it: 429 RateLimitedError with Retry-After.' }),
    window_ms: Type.Integer({ minimum: 1, default: 60_000, description: 'The window, in milliseconds (fixed windows: a bucket starts at its first request).' }),
  },
  {
    additionalProperties: false,
    description:
      "Rate limit of this group's routes, one bucket per API key (with auth:) or per client IP (without), per group. Absent: no rate limit.",
  },
);

const GroupFields = {
  body_limit_bytes: Type.Optional(BodyLimit),
  rate_limit: Type.Optional(RateLimitSchema),
};

const PredictLimitsSchema = Type.Object(
  {
    ...GroupFields,
    max_records: Type.Integer({
      minimum: 1,
      default: DEFAULT_MAX_RECORDS,
      description: 'Most records in one POST /api/models/{name}/predictions body, examples in one /score body, and texts in one POST /v1/embeddings input (413 TooManyRecordsError).',
    }),
    max_tensor_elements: Type.Integer({
      minimum: 1,
      default: DEFAULT_MAX_TENSOR_ELEMENTS,
      description:
        "Most tensor elements in one V2 infer or explain request, summed over its inputs' shapes, checked before any tensor is " +
        'allocated (413 TooManyElementsError).',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Limits of the `predict` routes (prediction, predictions, score, explain, operations, V2 infer and explain).' },
);

function groupSchema(description: string) {
  return Type.Object(GroupFields, { additionalProperties: false, default: {}, description });
}

export const LimitsSchema = Type.Object(
  {
    predict: PredictLimitsSchema,
    read: groupSchema('Limits of the `read` routes (model list and metadata, V2 metadata, OpenAPI, /docs).'),
    metrics: groupSchema('Limits of GET /metrics.'),
    admin: groupSchema('Limits of the `admin` routes (the repository API).'),
  },
  { additionalProperties: false, default: {}, description: 'Limits per route group (docs/security.md#limits). The health probes are never limited.' },
);

export type LimitsConfig = Static<typeof LimitsSchema>;
export type RateLimitConfig = Static<typeof RateLimitSchema>;
export type LimitGroup = keyof LimitsConfig;

/**
 * The `cors:` and `tls:` sections of `longshore.yaml` (part of the one schema in schema.ts). Both are off when absent:
 * no CORS plugin is registered and the server speaks plain HTTP. src/http/cors.ts and src/http/tls.ts apply them.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ErrorDetail } from '../errors.js';
import type { ProblemAt } from './problems.js';

/** @fastify/cors's default methods. */
export const CORS_DEFAULT_METHODS = ['GET', 'HEAD', 'POST'] as const;

/** The request headers a browser may send: the body's type, the credentials of issue 16's auth, longshore's own. */
export const CORS_DEFAULT_HEADERS = [
  'content-type',
  'content-encoding',
  'authorization',
  'x-api-key',
  'x-request-id',
  'x-request-timeout-ms',
  'inference-header-content-length',
] as const;

/** The response headers a page's script may read besides the CORS-safelisted ones. */
export const CORS_DEFAULT_EXPOSE_HEADERS = ['x-request-id', 'inference-header-content-length', 'retry-after'] as const;

/** An exact origin as browsers send it (`scheme://host[:port]`, no path, no trailing slash), or `*`. */
const ORIGIN_PATTERN = '^(\\*|[A-Za-z][A-Za-z0-9+.-]*://[^/\\s]+)$';

export const CorsSchema = Type.Object(
  {
    origins: Type.Array(Type.String({ pattern: ORIGIN_PATTERN }), {
      minItems: 1,
      description:
        'Origins allowed to call the API from a browser, each exact as the browser sends it (`https://app.example.com`, ' +
        '`http://localhost:3000`: scheme, host, port, no path), or `*` for any origin.',
    }),
    methods: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      default: [...CORS_DEFAULT_METHODS],
      description: 'Methods a preflight allows (Access-Control-Allow-Methods). @fastify/cors default.',
    }),
    headers: Type.Array(Type.String({ minLength: 1 }), {
      default: [...CORS_DEFAULT_HEADERS],
      description: 'Request headers a preflight allows (Access-Control-Allow-Headers).',
    }),
    expose_headers: Type.Array(Type.String({ minLength: 1 }), {
      default: [...CORS_DEFAULT_EXPOSE_HEADERS],
      description: "Response headers a page's script may read (Access-Control-Expose-Headers).",
    }),
    credentials: Type.Boolean({
      default: false,
      description: 'Send Access-Control-Allow-Credentials: true, so browsers send cookies and HTTP auth. Not allowed with origin `*`.',
    }),
    max_age_s: Type.Optional(
      Type.Integer({ minimum: 0, description: 'How long a browser may cache a preflight answer (Access-Control-Max-Age), in seconds. Unset: no header (the browser default, 5 s).' }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Cross-origin requests from browsers. Absent: off, no CORS headers at all. See docs/cors-and-tls.md.',
  },
);

export const TlsSchema = Type.Object(
  {
    cert_file: Type.String({ minLength: 1, description: 'PEM certificate (chain) of the server, relative to the config file.' }),
    key_file: Type.String({ minLength: 1, description: 'PEM private key of the certificate, relative to the config file.' }),
    ca_file: Type.Optional(Type.String({ minLength: 1, description:
          "PEM CA certificates, relative to the config file, passed as Node's tls `ca` option. Intermediate certificates " +
          'are best appended to cert_file after the server certificate. Client certificates are not requested.' })),
  },
  {
    additionalProperties: false,
    description: 'Serve HTTPS instead of HTTP. Absent: plain HTTP. The files are read once at start. See docs/cors-and-tls.md.',
  },
);

export type CorsConfig = Static<typeof CorsSchema>;
export type TlsConfig = Static<typeof TlsSchema>;

/** The rule across `cors:` keys the schema cannot state: browsers refuse credentials with `*`. */
export function corsProblems(cors: Partial<CorsConfig> | undefined, problem: ProblemAt): ErrorDetail[] {
  if (cors?.credentials !== true || !cors.origins?.includes('*')) return [];
  return [problem(['cors', 'credentials'], 'credentials: true needs the exact origins listed: browsers refuse credentials with origin `*`')];
}

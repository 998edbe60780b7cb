/**
 * The fuzzer's request generator, derived from the server's own /openapi.json: every path and method of the document,
 * path parameters filled with real model names and hostile ones, bodies generated from each route's JSON schema (REST)
 * or from the model's V2 tensor metadata (infer, explain), then mutated; headers (Content-Type and charset,
 * Content-Encoding, the client deadline, odd extras) drawn from lists of what clients really send, and worse.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { applyMutation, applyTextMutation, describeTextMutation, mutation, textMutation, toJsonText } from './mutations.ts';
import { schemaArbitrary, type Schema } from './schema-arbitrary.ts';
import { encodeV2, v2PlanArbitrary, type ModelTensors } from './v2-bodies.ts';
import type { FuzzRequest } from './wire.ts';

export interface Route {
  method: string;
  /** The OpenAPI path, `{name}` style. */
  template: string;
  params: string[];
  /** The JSON body schema, when the route takes one. */
  jsonSchema?: Schema;
  /** Takes the V2 binary body too. */
  binary: boolean;
}

export interface ServedApi {
  doc: Record<string, unknown>;
  routes: Route[];
  /** Every served model's name (GET /api/models). */
  models: string[];
  /** V2 tensor metadata of the models that have it (GET /v2/models/{name}). */
  tensors: ModelTensors[];
}

/** Reads the document, the model list and each model's V2 metadata from a running server. */
export async function readServedApi(base: URL): Promise<ServedApi> {
  const doc = (await (await fetch(new URL('/openapi.json', base))).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
  const routes: Route[] = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const params = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
      const content = (operation.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content ?? {};
      routes.push({ method: method.toUpperCase(), template, params, jsonSchema: content['application/json']?.schema, binary: 'application/octet-stream' in content });
    }
  }
  const listing = (await (await fetch(new URL('/api/models', base))).json()) as { models: { qualified_name: string }[] };
  const models = listing.models.map((model) => model.qualified_name);
  const tensors: ModelTensors[] = [];
  for (const name of models) {
    const response = await fetch(new URL(`/v2/models/${encodeURIComponent(name)}`, base));
    if (response.ok) tensors.push((await response.json()) as ModelTensors);
  }
  return { doc, routes, models, tensors };
}

/** Path segments no model has: unknown, too long, NUL, encoded dot segments, slashes, unicode, empty, bad escapes. */
const HOSTILE_SEGMENTS = [
  'unknown_model',
  'a'.repeat(1000),
  'b'.repeat(101),
  '%00',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%5c..%5c',
  '%2F',
  encodeURIComponent('modèle-☃-🧪'),
  'mod%C3%A8le',
  '%ff%fe',
  '%zz',
  '%',
  '',
  '.',
  '__proto__',
  'constructor',
  'iris_model%20',
  'IRIS_MODEL',
];

const methodArbitrary = (method: string): fc.Arbitrary<string> =>
  fc.oneof({ weight: 15, arbitrary: fc.constant(method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE') });

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=UTF-8',
  'application/json; charset=latin1',
  'application/json; charset=iso-8859-1',
  'application/json; charset=utf-16',
  'application/json; charset=',
  'application/json;;',
  'application/json; boundary=x; charset="utf-8"',
  'application/vnd.api+json',
  'application/octet-stream',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/xml',
  '*/*',
  '',
  ';',
  'json',
  '\u00e9/\u00e9',
];

type EncodingChoice = 'none' | 'gzip' | 'deflate' | 'gzip-lie' | 'br' | 'identity' | 'gzip, gzip' | 'x-unknown' | 'GZIP';
const encodingArbitrary = fc.oneof(
  { weight: 14, arbitrary: fc.constant<EncodingChoice>('none') },
  { weight: 1, arbitrary: fc.constantFrom<EncodingChoice>('gzip', 'deflate', 'gzip-lie', 'br', 'identity', 'gzip, gzip', 'x-unknown', 'GZIP') },
);

function encodeBody(body: Buffer, choice: EncodingChoice): { body: Buffer; header?: string } {
  switch (choice) {
    case 'none':
      return { body };
    case 'gzip':
      return { body: gzipSync(body), header: 'gzip' };
    case 'deflate':
      return { body: deflateSync(body), header: 'deflate' };
    case 'gzip-lie':
      return { body, header: 'gzip' };
    default:
      return { body, header: choice };
  }
}

const timeoutHeader = fc.oneof(
  { weight: 14, arbitrary: fc.constant<string | undefined>(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('5000', '1', '0', '-1', 'abc', '1e308', 'NaN', 'Infinity', '-Infinity', '0.0001', '', ' 100 ', '0x10', '9'.repeat(400), '100, 200', '5000ms') },
);

/** Extra headers a client may add (each present half the time): a request id, Accept, Expect, a router's variant header, Range, chunked framing. */
const extraHeaders = fc.record(
  {
    'x-request-id': fc.constantFrom('fuzz-1', 'a'.repeat(200), 'with space', '\u00e9'),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/octet-stream', 'image/png'),
    expect: fc.constantFrom('100-continue', 'something-else'),
    'x-variant': fc.constantFrom('onnx', 'typescript', 'iris_model', 'nope', ''),
    range: fc.constantFrom('bytes=0-10', 'bytes=99999999-', 'bytes=abc'),
    'transfer-encoding': fc.constantFrom('chunked'),
  },
  { requiredKeys: [] },
).map((headers) => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
});

const queryArbitrary = fc.oneof(
  { weight: 15, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('?deep=true', '?deep=%ff', '?deep=1&deep=2', `?x=${'y'.repeat(3000)}`, '?%zz', '?a[b]=1', '?__proto__[x]=1') },
);

function fillPath(route: Route, values: Record<string, string>): string {
  return route.template.replace(/\{(\w+)\}/g, (_match, name: string) => values[name] ?? '');
}

export interface GeneratedRequest extends FuzzRequest {
  route: Route;
}

/** Requests for one route of the document. */
export function routeRequests(api: ServedApi, route: Route): fc.Arbitrary<GeneratedRequest> {
  const realName = api.models.length > 0 ? fc.constantFrom(...api.models) : fc.constant('none');
  const nameArbitrary = fc.oneof({ weight: 10, arbitrary: realName }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) });
  const versionArbitrary = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('1', '') }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) });
  const params = fc.record(Object.fromEntries(route.params.map((param) => [param, param === 'version' ? versionArbitrary : nameArbitrary])) as Record<string, fc.Arbitrary<string>>);
  // A REST model path names its model in the path: sometimes swap it for a hostile or another model's name.
  const concreteModel = /^\/api\/models\/([^/{]+)\//.exec(route.template)?.[1];
  const swapped = concreteModel === undefined ? fc.constant(undefined) : fc.option(nameArbitrary, { nil: undefined, freq: 5 });
  const isV2Tensors = route.binary && /\/(infer|explain)$/.test(route.template);
  return fc
    .record({
      method: methodArbitrary(route.method),
      params,
      swapped,
      query: queryArbitrary,
      contentType: fc.oneof({ weight: 20, arbitrary: fc.constant<string | undefined>('default') }, { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES) }),
      encoding: encodingArbitrary,
      timeout: timeoutHeader,
      extra: fc.oneof({ weight: 14, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeaders }),
      bodySeed: fc.nat(),
    })
    .chain((shape) => {
      const name = shape.params.name;
      const tensors = api.tensors.find((model) => model.name === name) ?? api.tensors[shape.bodySeed % Math.max(1, api.tensors.length)];
      const body: fc.Arbitrary<{ bytes?: Buffer; contentType?: string; headers: Record<string, string>; label: string; mustRefuse?: string }> =
        isV2Tensors && tensors
          ? v2PlanArbitrary(tensors).map((plan) => {
              const encoded = encodeV2(plan);
              return { bytes: encoded.body, contentType: encoded.headers['content-type'], headers: encoded.headers, label: encoded.label, ...(encoded.mustRefuse === undefined ? {} : { mustRefuse: encoded.mustRefuse }) };
            })
          : route.jsonSchema !== undefined
            ? fc.tuple(schemaArbitrary(route.jsonSchema, api.doc), fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }), textMutation).map(([value, mutations, text]) => {
                const labels: string[] = [];
                let mutated = value;
                for (const m of mutations) {
                  const applied = applyMutation(mutated, m);
                  mutated = applied.value;
                  labels.push(applied.label);
                }
                const description = describeTextMutation(text);
                if (description) labels.push(description);
                return { bytes: applyTextMutation(toJsonText(mutated), text), contentType: 'application/json', headers: {}, label: labels.join(', ') || 'valid' };
              })
            : fc.oneof({ weight: 8, arbitrary: fc.constant({ headers: {}, label: 'no body' }) }, { weight: 1, arbitrary: fc.constantFrom(Buffer.from('{}'), Buffer.from('garbage')).map((bytes) => ({ bytes, contentType: 'application/json', headers: {}, label: 'unexpected body' })) });
      return body.map((generated) => {
        let path = fillPath(route, shape.params);
        if (concreteModel !== undefined && shape.swapped !== undefined) path = path.replace(`/api/models/${concreteModel}/`, `/api/models/${shape.swapped}/`);
        const headers: Record<string, string> = { ...generated.headers, ...shape.extra };
        delete headers['content-type'];
        const contentType = shape.contentType === 'default' ? generated.contentType : shape.contentType;
        if (contentType !== undefined && generated.bytes !== undefined) headers['content-type'] = contentType;
        if (shape.timeout !== undefined) headers['x-request-timeout-ms'] = shape.timeout;
        let bytes = generated.bytes;
        if (bytes !== undefined) {
          const encoded = encodeBody(bytes, shape.encoding);
          bytes = encoded.body;
          if (encoded.header !== undefined) headers['content-encoding'] = encoded.header;
        }
        // A chunked body has no Content-Length; without a body the header would leave the request open.
        if (bytes === undefined) delete headers['transfer-encoding'];
        const notes = [generated.label, shape.encoding === 'none' ? '' : `content-encoding ${shape.encoding}`, shape.contentType === 'default' ? '' : `content-type ${JSON.stringify(contentType ?? null)}`];
        return {
          method: shape.method,
          path: path + shape.query,
          headers,
          ...(bytes === undefined || shape.method === 'HEAD' ? {} : { body: bytes }),
          label: `${route.method} ${route.template}: ${notes.filter(Boolean).join('; ')}`,
          ...(generated.mustRefuse === undefined ? {} : { mustRefuse: generated.mustRefuse }),
          route,
        };
      });
    });
}

/** Requests over every route of the document, each route equally likely. */
export function apiRequests(api: ServedApi): fc.Arbitrary<GeneratedRequest> {
  return fc.oneof(...api.routes.map((route) => routeRequests(api, route)));
}

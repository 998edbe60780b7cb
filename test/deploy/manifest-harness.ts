/**
 * Shared by the manifest tests: every YAML document under deploy/, the offline schemas they are checked against
 * (test/fixtures/k8s-schemas), and helpers that read the manifests and start longshore the way they do.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { buildApp } from '../../src/http/app.ts';
import { createService } from '../../src/service.ts';
import { startServe } from '../helpers/cli.ts';
import { REPO_ROOT, silentLogger, tempDir } from '../helpers/service.ts';

export const ROOT = REPO_ROOT;
export const DEPLOY = join(ROOT, 'deploy');
const SCHEMAS = join(ROOT, 'test/fixtures/k8s-schemas');
export const IRIS = join(ROOT, 'test/fixtures/onnx/iris_logreg.onnx');
/** What the image (Dockerfile at the repository root) sets; the manifests must work on top of it. */
export const IMAGE_ENV = { LONGSHORE_HOST: '0.0.0.0', LONGSHORE_PORT: '8000', LONGSHORE_CONFIG: '/config/longshore.yaml', TSX_DISABLE_CACHE: '1' };

export type Json = Record<string, unknown>;
// Loose views of the manifests, for the cross-checks (the schemas have already checked the shapes).
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Any = any;

export interface Doc {
  readonly file: string;
  readonly index: number;
  readonly body: Json;
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

export const FILES = yamlFiles(DEPLOY).sort();

function docsOf(file: string): Doc[] {
  const text = readFileSync(file, 'utf8');
  const parsed = parseAllDocuments(text);
  if (!Array.isArray(parsed)) throw new Error(`${file}: not a YAML stream`);
  return parsed.flatMap((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${relative(ROOT, file)}: ${doc.errors[0]?.message}`);
    const body: unknown = doc.toJS();
    return body === null || body === undefined ? [] : [{ file: relative(ROOT, file), index, body: body as Json }];
  });
}

export const DOCS = FILES.flatMap(docsOf);

export function only(kind: string, dir?: string): Any {
  const found = DOCS.filter((doc) => doc.body.kind === kind && (dir === undefined || doc.file.startsWith(dir)));
  assert.equal(found.length, 1, `expected one ${kind}${dir ? ` under ${dir}` : ''}, found ${found.length}`);
  return found[0]?.body;
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas

export type AddFormats = (ajv: Ajv) => Ajv;
export const addFormats: AddFormats = (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);
// `optimize: false`: the KServe CRDs are large, and ajv's code optimisation pass cost about a quarter of this file's CPU.
export const ajv = new Ajv({ strict: false, allErrors: true, code: { optimize: false } });
addFormats(ajv);

const K8S = 'kubernetes/v1.36-standalone-strict';
/** (apiVersion, kind) → schema file under test/fixtures/k8s-schemas. Anything else is an unknown kind. */
const SCHEMA_FILES: Record<string, string> = {
  'apps/v1 Deployment': `${K8S}/deployment-apps-v1.json`,
  'v1 Service': `${K8S}/service-v1.json`,
  'v1 ConfigMap': `${K8S}/configmap-v1.json`,
  'autoscaling/v2 HorizontalPodAutoscaler': `${K8S}/horizontalpodautoscaler-autoscaling-v2.json`,
  'policy/v1 PodDisruptionBudget': `${K8S}/poddisruptionbudget-policy-v1.json`,
  'serving.kserve.io/v1alpha1 ServingRuntime': 'kserve/servingruntime-v1alpha1.json',
  'serving.kserve.io/v1alpha1 ClusterServingRuntime': 'kserve/clusterservingruntime-v1alpha1.json',
  'serving.kserve.io/v1beta1 InferenceService': 'kserve/inferenceservice-v1beta1.json',
};

/** kustomize's own file has no published schema here: the keys it may use in this repository, closed. */
const KUSTOMIZATION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'resources'],
  properties: {
    apiVersion: { const: 'kustomize.config.k8s.io/v1beta1' },
    kind: { const: 'Kustomization' },
    namespace: { type: 'string' },
    resources: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    images: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: 'string' }, newName: { type: 'string' }, newTag: { type: 'string' }, digest: { type: 'string' } },
      },
    },
  },
};

/**
 * A CRD's structural schema with unknown fields refused: `additionalProperties: false` on every object schema that
 * lists properties, has no additionalProperties of its own and does not preserve unknown fields. `metadata` (only
 * `type: object` in CRDs) is left open.
 */
function closeSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    // Under `properties` the keys are field names, not keywords: recurse into each value.
    copy[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Json).map(([name, sub]) => [name, closeSchema(sub)])) : closeSchema(value);
  }
  if (copy.properties !== undefined && copy.additionalProperties === undefined && copy['x-kubernetes-preserve-unknown-fields'] !== true) {
    copy.additionalProperties = false;
  }
  return copy;
}

export const validators = new Map<string, ValidateFunction>();

function validatorFor(body: Json): ValidateFunction {
  const key = `${String(body.apiVersion)} ${String(body.kind)}`;
  let validate = validators.get(key);
  if (validate) return validate;
  if (key === 'kustomize.config.k8s.io/v1beta1 Kustomization') {
    validate = ajv.compile(KUSTOMIZATION_SCHEMA);
  } else {
    const file = SCHEMA_FILES[key];
    if (file === undefined) throw new Error(`unknown kind '${key}': add its schema to test/fixtures/k8s-schemas and SCHEMA_FILES`);
    const { $schema: _ignored, ...schema } = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as Json;
    validate = ajv.compile((file.startsWith('kserve/') ? closeSchema(schema) : schema) as object);
  }
  validators.set(key, validate);
  return validate;
}

/** The schema problems of one document, one line each (empty when valid). */
export function problemsOf(body: Json): string[] {
  const validate = validatorFor(body);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((error) => {
    const extra = error.keyword === 'additionalProperties' ? ` '${String(error.params.additionalProperty)}'` : '';
    return `${error.instancePath || '/'} ${error.message ?? error.keyword}${extra}`;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers for the cross-checks

export const DEPLOYMENT = only('Deployment', 'deploy/kubernetes');
export const SERVICE = only('Service', 'deploy/kubernetes');
export const CONFIG_MAP = only('ConfigMap', 'deploy/kubernetes');
export const HPA = only('HorizontalPodAutoscaler', 'deploy/kubernetes');
export const PDB = only('PodDisruptionBudget', 'deploy/kubernetes');
export const POD = DEPLOYMENT.spec.template.spec;
export const CONTAINER = POD.containers[0];

/** A probe's or targetPort's port: a number, or the name of a container port. */
export function portNumber(container: Any, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((candidate: Any) => candidate.name === port);
  assert.ok(named, `port '${port}' is not a port of container ${container.name}`);
  return named.containerPort as number;
}

/** The value of `--flag value` or `--flag=value` in args. */
export function flag(args: readonly string[], name: string): string | undefined {
  for (const [index, arg] of args.entries()) {
    if (arg === name) return args[index + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** A container's `env` as a plain mapping. */
export function envOf(container: Any): Record<string, string> {
  return Object.fromEntries(((container.env ?? []) as Any[]).map((variable) => [variable.name, variable.value]));
}

export function probes(container: Any): [string, Any][] {
  return (['startupProbe', 'readinessProbe', 'livenessProbe'] as const).filter((name) => container[name]).map((name) => [name, container[name]]);
}

/** The longshore.yaml of the ConfigMap, through longshore's own loader, as the Deployment mounts it. */
export function mountedConfig() {
  const configArg = flag(CONTAINER.args as string[], '--config') ?? envOf(CONTAINER).LONGSHORE_CONFIG;
  assert.ok(configArg, 'the container names its config file with --config or LONGSHORE_CONFIG');
  const mount = (CONTAINER.volumeMounts as Any[]).find((m) => configArg.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `${configArg} is not under a volume mount of the container`);
  const volume = (POD.volumes as Any[]).find((v) => v.name === mount.name);
  assert.equal(volume?.configMap?.name, CONFIG_MAP.metadata.name, `${configArg} comes from the ConfigMap`);
  const key = configArg.slice(mount.mountPath.length + 1);
  const text = CONFIG_MAP.data[key] as string | undefined;
  assert.ok(text !== undefined, `the ConfigMap has no key '${key}'`);
  return { text, file: configArg, dir: mount.mountPath as string, loaded: parseConfig(text, configArg, mount.mountPath) };
}

/** An app built over `configText` with no models (routes that do not depend on a model are all there). */
export async function appFor(configText: string) {
  const raw = (parseYaml(configText) ?? {}) as Json;
  const loaded = parseConfig(toYaml({ ...raw, models: [] }), '<test>', '/');
  const service = await createService(loaded, silentLogger());
  const app = await buildApp({ config: loaded.config, dataplane: service.dataplane, metrics: service.metrics, logger: silentLogger() });
  await app.ready();
  return app;
}

/** Runs `longshore serve ...` (`args` as a manifest writes them, `serve` first) in a temp dir, calls `check(url)`, then kills it. */
export async function withServer(args: readonly string[], env: Record<string, string>, check: (url: string) => Promise<void>): Promise<void> {
  assert.equal(args[0], 'serve', `the manifest's args start with the serve command: ${args.join(' ')}`);
  const server = await startServe(args.slice(1), { cwd: tempDir(), env, timeoutMs: 30_000 });
  try {
    await check(server.url);
  } finally {
    server.kill();
  }
}

export async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await fetch(url)).status === 200) return;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
  }
  assert.fail(`${url} never answered 200`);
}

// ---------------------------------------------------------------------------------------------------------------

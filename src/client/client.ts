/** LongshoreClient: typed calls to a longshore server's REST API and Open Inference Protocol (V2) API. */
import type { ModelDescription, ModelListing, RepositoryIndexEntry, TensorMetadata } from '../wire.js';
import { GrpcTransport } from './grpc.js';
import { grpcInferRequest, grpcOutputs, type GrpcInferResponse } from './grpc-contents.js';
import { jsonBody, Transport, type HttpAnswer } from './http.js';
import { encodeInferRequest } from './infer-request.js';
import { decodeInferResponse, InferResponse } from './infer-response.js';
import type { InferOptions, InferRequest, LongshoreClientOptions, ServerMetadata } from './types.js';

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/**
 * A client for one longshore server. Every call is one HTTP request through the global `fetch`; any failure (an error
 * status, no answer within `timeoutMs`, a malformed body) throws `LongshoreClientError`.
 *
 * @example
 * ```ts
 * import { LongshoreClient } from 'longshore/client';
 *
 * const client = new LongshoreClient('http://127.0.0.1:8000', { timeoutMs: 5000 });
 *
 * // REST: one record in, one record out.
 * const iris = await client.predict<{ species: string }>('iris_model', { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 });
 *
 * // Open Inference Protocol, inputs and outputs as binary tensor data.
 * const response = await client.infer(
 *   'iris_onnx',
 *   { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4]) }] },
 *   { binary: true, binaryOutputs: true },
 * );
 * response.output('label', 'INT64').data; // BigInt64Array [0n, 1n]
 * ```
 */
export class LongshoreClient {
  readonly #http: Transport;
  /** The V2 calls' transport when `grpc` is set. */
  readonly #grpc: GrpcTransport | undefined;

  /** `baseUrl` is the server's root (`http://host:port`, optionally with a path prefix). */
  constructor(baseUrl: string | URL, options: LongshoreClientOptions = {}) {
    this.#http = new Transport(baseUrl, options);
    this.#grpc = options.grpc === undefined ? undefined : new GrpcTransport(options.grpc, options);
  }

  /** Closes the gRPC channel, if one was opened (HTTP needs no closing). */
  close(): void {
    this.#grpc?.close();
  }

  /** The base URL calls go to, without a trailing slash. */
  get baseUrl(): string {
    return this.#http.baseUrl;
  }

  // --- REST API -------------------------------------------------------------------------------------------------

  /** `GET /api/models`: every configured model with its load status. */
  async listModels(): Promise<ModelListing[]> {
    return jsonBody<{ models: ModelListing[] }>(await this.#http.send('GET', '/api/models')).models;
  }

  /** `GET /api/models/{name}[/versions/{version}]/metadata`: a model's metadata, status and input/output JSON Schemas. */
  async metadata(name: string, options: VersionOption = {}): Promise<ModelDescription> {
    return jsonBody(await this.#http.send('GET', `${restPath(name, options.version)}/metadata`));
  }

  /**
   * `POST /api/models/{name}[/versions/{version}]/prediction`: predicts one record (with no version, the newest ready
   * one answers). `O` is the output record's type (not checked).
   */
  async predict<O = unknown>(name: string, record: unknown, options: VersionOption = {}): Promise<O> {
    return jsonBody(await this.#http.send('POST', `${restPath(name, options.version)}/prediction`, { body: JSON.stringify(record), headers: JSON_HEADERS }));
  }

  /** `POST /api/models/{name}[/versions/{version}]/predictions`: predicts many records, answering in the same order. */
  async predictBatch<O = unknown>(name: string, records: readonly unknown[], options: VersionOption = {}): Promise<O[]> {
    return jsonBody(await this.#http.send('POST', `${restPath(name, options.version)}/predictions`, { body: JSON.stringify(records), headers: JSON_HEADERS }));
  }

  // --- Model repository (server.repository_api; the admin scope with auth) ---------------------------------------

  /** `POST /v2/repository/index`: every model version with its state (`ready: true`: only the ready ones). */
  async repositoryIndex(options: { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    return jsonBody(await this.#http.send('POST', '/v2/repository/index', { body: JSON.stringify(options.ready ? { ready: true } : {}), headers: JSON_HEADERS }));
  }

  /**
   * `POST /v2/repository/models/{name}/load`: loads or reloads a model beside what serves it now, from the server's
   * config, or from `config` (a model entry, as under `models:` in longshore.yaml). Resolves once it serves.
   */
  async loadModel(name: string, options: { config?: Record<string, unknown> } = {}): Promise<void> {
    const body = options.config === undefined ? {} : { parameters: { config: JSON.stringify(options.config) } };
    await this.#http.send('POST', `/v2/repository/models/${segment(name)}/load`, { body: JSON.stringify(body), headers: JSON_HEADERS });
  }

  /** `POST /v2/repository/models/{name}/unload`: drains and unloads every version (`unloadDependents`: the graphs calling it too). */
  async unloadModel(name: string, options: { unloadDependents?: boolean } = {}): Promise<void> {
    const body = options.unloadDependents ? { parameters: { unload_dependents: true } } : {};
    await this.#http.send('POST', `/v2/repository/models/${segment(name)}/unload`, { body: JSON.stringify(body), headers: JSON_HEADERS });
  }

  /** `GET /api/health`: true when the server answers `HEALTHY` (no answer throws, with status 0). */
  async health(): Promise<boolean> {
    return jsonBody<{ health_status?: unknown }>(await this.#http.send('GET', '/api/health')).health_status === 'HEALTHY';
  }

  /** `GET /api/health/ready`: true when every required model is ready, false on 503 (`REFUSING_TRAFFIC`). */
  async ready(): Promise<boolean> {
    const answer = await this.#http.send('GET', '/api/health/ready', { accept: [503] });
    return answer.status === 200 && jsonBody<{ readiness_status?: unknown }>(answer).readiness_status === 'ACCEPTING_TRAFFIC';
  }

  // --- Open Inference Protocol (V2) ----------------------------------------------------------------------------

  /** `GET /v2`: server name, version and protocol extensions. */
  async serverMetadata(): Promise<ServerMetadata> {
    if (this.#grpc) return this.#grpc.call('ServerMetadata', {});
    return jsonBody(await this.#http.send('GET', '/v2'));
  }

  /** `GET /v2/health/ready`: true when every required model is ready, false on 503. */
  async serverReady(): Promise<boolean> {
    if (this.#grpc) return (await this.#grpc.call<{ ready: boolean }>('ServerReady', {})).ready;
    return readyFlag(await this.#http.send('GET', '/v2/health/ready', { accept: [503] }));
  }

  /** `GET /v2/models/{name}[/versions/{version}]/ready`: false on 503 (loading, failed); an unknown model or version throws (404). */
  async modelReady(name: string, version?: string): Promise<boolean> {
    if (this.#grpc) return (await this.#grpc.call<{ ready: boolean }>('ModelReady', { name, version: version ?? '' })).ready;
    return readyFlag(await this.#http.send('GET', `${modelPath(name, version)}/ready`, { accept: [503] }));
  }

  /** `GET /v2/models/{name}[/versions/{version}]`: the model's tensors (-1 marks a dynamic dimension). */
  async modelMetadata(name: string, version?: string): Promise<TensorMetadata> {
    if (this.#grpc) {
      const metadata = await this.#grpc.call<TensorMetadata & { inputs: { shape: (string | number)[] }[]; outputs: { shape: (string | number)[] }[] }>('ModelMetadata', { name, version: version ?? '' });
      const view = (tensors: readonly { name: string; datatype: string; shape: readonly (string | number)[] }[]) => tensors.map((tensor) => ({ ...tensor, shape: tensor.shape.map(Number) }));
      return { name: metadata.name, versions: metadata.versions, platform: metadata.platform, inputs: view(metadata.inputs), outputs: view(metadata.outputs) };
    }
    return jsonBody(await this.#http.send('GET', modelPath(name, version)));
  }

  /**
   * `POST /v2/models/{name}[/versions/{version}]/infer`. Inputs go as JSON, or as binary tensor data with
   * `binary: true`; `binaryOutputs: true` asks for binary outputs. Either way every output's data is decoded into its
   * datatype's storage (see `DataOf`): INT64 → BigInt64Array, FP32 → Float32Array, FP16 → Uint16Array of raw
   * half words, BOOL → Uint8Array of 0/1, BYTES → string[]; 64-bit integers stay exact in JSON too, and a JSON `null`
   * (a non-finite float) becomes NaN.
   */
  async infer(name: string, request: InferRequest, options: InferOptions = {}): Promise<InferResponse> {
    if (this.#grpc) {
      const response = await this.#grpc.call<GrpcInferResponse>('ModelInfer', grpcInferRequest(name, request, options));
      const id = response.id || undefined;
      return new InferResponse({ model_name: response.model_name ?? name, model_version: response.model_version ?? '', ...(id === undefined ? {} : { id }), outputs: grpcOutputs(response) });
    }
    const { body, headers } = encodeInferRequest(request, options);
    return decodeInferResponse(await this.#http.send('POST', `${modelPath(name, options.version)}/infer`, { body, headers }));
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

/** Calls one version of a model (`/versions/{version}/`); without it, the newest ready version answers. */
export interface VersionOption {
  readonly version?: string;
}

function restPath(name: string, version: string | undefined): string {
  return `/api/models/${segment(name)}${version === undefined ? '' : `/versions/${segment(version)}`}`;
}

function modelPath(name: string, version: string | undefined): string {
  return `/v2/models/${segment(name)}${version === undefined ? '' : `/versions/${segment(version)}`}`;
}

function readyFlag(answer: HttpAnswer): boolean {
  return answer.status === 200 && jsonBody<{ ready?: unknown }>(answer).ready === true;
}

/** The public types of the client: its options, V2 inference requests and outputs, and the server's REST and V2 bodies. */
import type { Datatype, TensorData } from '../tensors/datatypes.js';

export type { Datatype, TensorData } from '../tensors/datatypes.js';
export type { ModelDescription, ModelListing, RepositoryIndexEntry, TensorMetadata, TensorSpecView } from '../wire.js';

export interface LongshoreClientOptions {
  /**
   * Abort a call that has not been answered in full after this many milliseconds (default: no limit). Also sent as
   * `x-request-timeout-ms`, so the server answers 504 and drops the request rather than compute an unread answer.
   */
  readonly timeoutMs?: number;
  /** Headers sent with every request (e.g. `authorization`, or `x-request-id` to set the id the server logs). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A key of the server's `auth:` section, sent as `authorization: Bearer <apiKey>` with every request
   * (docs/security.md). An `authorization` entry of `headers` takes precedence over it.
   */
  readonly apiKey?: string;
  /**
   * Send the Open Inference Protocol calls (`serverMetadata`, `serverReady`, `modelReady`, `modelMetadata`, `infer`)
   * over gRPC to this address (`host:port`, the server's `server.grpc_port`) instead of HTTP; the REST calls stay on
   * HTTP. The same methods, the same results (docs/grpc.md).
   */
  readonly grpc?: string;
}

/** The element storage each datatype decodes into (FP16 as raw IEEE half words, BOOL as 0/1 bytes). */
export interface DataOf {
  BOOL: Uint8Array;
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Uint16Array;
  FP32: Float32Array;
  FP64: Float64Array;
  BYTES: string[];
}

/** A plain JS element: a number, a bigint (64-bit integers), a boolean (BOOL) or a string (BYTES). */
export type PlainElement = number | bigint | boolean | string;

/** Plain data, flat or nested in row-major order. */
export type PlainData = readonly (PlainElement | PlainData)[];

/**
 * One input tensor. `data` is a typed array holding the datatype's storage (see `DataOf`: Float32Array for FP32,
 * BigInt64Array for INT64, Uint16Array of raw half words for FP16, Uint8Array of 0/1 for BOOL, ...), any other typed
 * array (converted element by element; for FP16 its values are numbers, not half words), or plain values, flat or
 * nested (numbers, bigints, booleans; strings for BYTES).
 */
export interface InferInput {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData | PlainData;
}

export interface InferRequest {
  readonly inputs: readonly InferInput[];
  /** Names of the outputs to return, in this order (default: all of them, in the model's order). */
  readonly outputs?: readonly string[];
  /** Echoed in the response. */
  readonly id?: string;
}

export interface InferOptions {
  /** Send every input as binary tensor data rather than JSON (default false). */
  readonly binary?: boolean;
  /** Ask the server for every output as binary tensor data (default false). The decoded result is the same. */
  readonly binaryOutputs?: boolean;
  /** Call this version of the model (`/v2/models/{name}/versions/{version}/infer`). */
  readonly version?: string;
}

/** One output tensor, its flat row-major data decoded into the datatype's storage. */
export interface InferOutput<D extends Datatype = Datatype> {
  readonly name: string;
  readonly datatype: D;
  readonly shape: readonly number[];
  readonly data: DataOf[D];
}

/** `GET /v2`. */
export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

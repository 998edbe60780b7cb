/** The client's public API, importable as `longshore/client`. */
export { LongshoreClient, type VersionOption } from './client.js';
export { LongshoreClientError, type LongshoreClientErrorInit } from './errors.js';
export { InferResponse } from './infer-response.js';
export { fromHalfBits, toHalfBits } from '../tensors/float16.js';
export type {
  DataOf,
  Datatype,
  InferInput,
  InferOptions,
  InferOutput,
  InferRequest,
  LongshoreClientOptions,
  ModelDescription,
  ModelListing,
  PlainData,
  PlainElement,
  RepositoryIndexEntry,
  ServerMetadata,
  TensorData,
  TensorMetadata,
  TensorSpecView,
} from './types.js';

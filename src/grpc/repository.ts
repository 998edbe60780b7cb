/**
 * The model repository calls over gRPC (server.repository_api; docs/grpc.md#model-repository): RepositoryIndex,
 * RepositoryModelLoad and RepositoryModelUnload of proto/model_repository.proto (Triton's messages), each a dataplane
 * call as over REST (http/routes/repository.ts), through `unary` (status.ts) like every RPC. They are served twice: as
 * inference.GRPCRepositoryService (what reflection lists, so grpcurl can call them) and under
 * /inference.GRPCInferenceService/..., the paths Triton's clients (tritonclient.grpc) call.
 */
import type { ServerUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Dataplane } from '../dataplane/dataplane.js';
import { SchemaValidationError } from '../errors.js';
import { unary } from './status.js';

/** The service of the proto, and the service whose paths Triton's clients call. */
export const REPOSITORY_SERVICE = 'inference.GRPCRepositoryService';
const TRITON_SERVICE = 'inference.GRPCInferenceService';

/** A ModelRepositoryParameter as proto-loader gives it (oneofs: true names the field set). */
interface Parameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'bytes_param';
  bool_param?: boolean;
  string_param?: string;
}
interface ModelRequest {
  model_name: string;
  parameters?: Record<string, Parameter>;
}

/** The repository service's definition with each method's path moved under inference.GRPCInferenceService. */
export function underInferencePaths(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [name, { ...method, path: method.path.replace(`/${REPOSITORY_SERVICE}/`, `/${TRITON_SERVICE}/`) }]),
  );
}

export function repositoryService(dataplane: Dataplane, logger: Logger): UntypedServiceImplementation {
  return {
    RepositoryIndex: unary('RepositoryIndex', logger, (call: ServerUnaryCall<{ ready: boolean }, unknown>) => ({
      models: dataplane.repositoryIndex(call.request.ready),
    })),
    RepositoryModelLoad: unary('RepositoryModelLoad', logger, async (call: ServerUnaryCall<ModelRequest, unknown>) => {
      await dataplane.loadModel(call.request.model_name, override(call.request.parameters?.config));
      return {};
    }),
    RepositoryModelUnload: unary('RepositoryModelUnload', logger, async (call: ServerUnaryCall<ModelRequest, unknown>) => {
      await dataplane.unloadModel(call.request.model_name, dependents(call.request.parameters?.unload_dependents));
      return {};
    }),
  };
}

/** `parameters["config"]`: a model entry as JSON text in string_param, as Triton takes a model's config. */
function override(parameter: Parameter | undefined): Record<string, unknown> | undefined {
  if (parameter === undefined) return undefined;
  if (parameter.parameter_choice !== 'string_param') throw invalid('config', 'must be a string_param (a model entry as JSON text); files (bytes_param) are not taken');
  let config: unknown;
  try {
    config = JSON.parse(parameter.string_param ?? '');
  } catch (error) {
    throw invalid('config', `is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid('config', 'must be a model entry (a JSON object, as under models: in longshore.yaml)');
  return config as Record<string, unknown>;
}

/** `parameters["unload_dependents"]`: a bool_param. */
function dependents(parameter: Parameter | undefined): boolean {
  if (parameter === undefined) return false;
  if (parameter.parameter_choice !== 'bool_param') throw invalid('unload_dependents', 'must be a bool_param');
  return parameter.bool_param === true;
}

function invalid(name: string, message: string): SchemaValidationError {
  return new SchemaValidationError(`the parameter ${name} ${message}`, { details: [{ path: `/parameters/${name}`, message }] });
}

/**
 * longshore's public API: the model contract a user implements, the server starter (or, to embed: createService, then
 * buildApp over its dataplane), and the error catalogue. Only the
 * user-facing contract types are exported; what the server adds for itself (RuntimeModel, ServedMetadata) stays inside.
 */
export type {
  CallContext,
  CallSignal,
  Decorator,
  DecoratorClass,
  DecoratorSetup,
  JsonSchema,
  Model,
  ModelClass,
  ModelExample,
  ModelMetadata,
  ModelState,
  OperationSpec,
  ScoreExample,
} from './model/contract.js';
export type { LongshoreConfig, ModelEntry } from './config/schema.js';
export { loadConfigFile, parseConfig, findConfigFile, type LoadedConfig } from './config/load.js';
export { startServer, type RunningServer, type StartOptions } from './server.js';
export { createService, type Service } from './service.js';
export { buildApp, type BuildAppOptions } from './http/app.js';
export type { Dataplane } from './dataplane/dataplane.js';
export type { ModelRegistry } from './model/registry.js';
export * from './errors.js';

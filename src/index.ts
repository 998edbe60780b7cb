/**
 * longshore's public API: the model contract a user implements, the server starter, and the error catalogue.
 */
export type {
  CallContext,
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
export { buildApp } from './http/app.js';
export { ModelRegistry } from './model/registry.js';
export * from './errors.js';

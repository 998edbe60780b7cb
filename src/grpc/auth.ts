/**
 * API keys on the gRPC port (docs/grpc.md#api-keys), only when `auth:` is set: a server interceptor that finds the
 * method's scope by its path and checks the call's metadata (`authorization: Bearer <key>`, else `x-api-key`) with the
 * key check REST uses (config/api-keys.ts: digests, constant-time) before the handler sees the call. A missing or
 * unknown key ends the call UNAUTHENTICATED, a key without the scope PERMISSION_DENIED; keys are never logged.
 */
import { Metadata, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { apiKeyLookup, bearerOrApiKey } from '../config/api-keys.js';
import type { AuthScope, ResolvedAuth } from '../config/schema.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { toStatus } from './status.js';

/** `open`: no key needed (the health calls while auth.open_health is true). */
export type MethodAccess = AuthScope | 'open';

/** The health calls: ServerLive, ServerReady and grpc.health.v1 (REST's /v2/health/*): open unless auth.open_health is false. */
const HEALTH_METHODS = ['/inference.GRPCInferenceService/ServerLive', '/inference.GRPCInferenceService/ServerReady'];
const HEALTH_SERVICE = '/grpc.health.v1.Health/';

/** The scope of every method, by path, as REST's routes of the same calls. A method missing here needs `admin` (fail closed). */
export const METHOD_SCOPES: ReadonlyMap<string, AuthScope> = new Map<string, AuthScope>([
  ['/inference.GRPCInferenceService/ModelReady', 'read'],
  ['/inference.GRPCInferenceService/ServerMetadata', 'read'],
  ['/inference.GRPCInferenceService/ModelMetadata', 'read'],
  ['/inference.GRPCInferenceService/ModelInfer', 'predict'],
  // Reflection describes the services, as the OpenAPI document describes the routes.
  ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', 'read'],
  ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', 'read'],
  // The repository calls (/inference.GRPCInferenceService/Repository* and /inference.GRPCRepositoryService/*): admin,
  // by the fail-closed default.
]);

/** What a method needs. */
export function methodAccess(path: string, auth: Pick<ResolvedAuth, 'open_health'>): MethodAccess {
  if (HEALTH_METHODS.includes(path) || path.startsWith(HEALTH_SERVICE)) return auth.open_health ? 'open' : 'read';
  return METHOD_SCOPES.get(path) ?? 'admin';
}

/** The first text value of a metadata key. */
function text(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** The interceptor that checks every call's key against its method's scope. */
export function authInterceptor(auth: ResolvedAuth): ServerInterceptor {
  const keyOf = apiKeyLookup(auth);
  // Resolved once per method, not per call.
  const access = new Map<string, MethodAccess>();
  const refusal = (metadata: Metadata, needed: AuthScope): UnauthorizedError | ForbiddenError | undefined => {
    const key = bearerOrApiKey(text(metadata, 'authorization'), text(metadata, 'x-api-key'));
    if (key === undefined) return new UnauthorizedError('this RPC needs an API key: send the metadata authorization: Bearer <key> or x-api-key: <key>');
    const granted = keyOf(key);
    if (granted === undefined) return new UnauthorizedError('the API key is not valid');
    if (!granted.scopes.has(needed)) return new ForbiddenError(`the API key lacks the scope '${needed}' this RPC needs`);
    return undefined;
  };
  return (method, call) => {
    let needed = access.get(method.path);
    if (needed === undefined) access.set(method.path, (needed = methodAccess(method.path, auth)));
    if (needed === 'open') return new ServerInterceptingCall(call);
    const scope = needed;
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const error = refusal(metadata, scope);
            if (error === undefined) proceed(metadata);
            else call.sendStatus(toStatus(error).status as Parameters<typeof call.sendStatus>[0]);
          },
        }),
    });
  };
}

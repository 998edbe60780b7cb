/**
 * The standard health service, grpc.health.v1.Health (the proto shipped by grpc-health-check), over the dataplane's
 * readiness: service "" (and "inference.GRPCInferenceService") is the server's readiness, what GET /v2/health/ready
 * checks; a model's name is that model's readiness, what ModelReady checks. Shutting down, everything is NOT_SERVING.
 * Check and List answer from the state of the moment; Watch streams each change, found by polling (only while a
 * Watch is open, every WATCH_POLL_MS), and its streams end, NOT_SERVING, when the server closes.
 */
import type { ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Dataplane } from '../dataplane/dataplane.js';
import { LongshoreError, ModelNotFoundError } from '../errors.js';
import { unary } from './status.js';

/** The service names that stand for the whole server: "" by the health protocol, and the inference service. */
export const SERVER_HEALTH_NAMES: readonly string[] = ['', 'inference.GRPCInferenceService'];

/** How often open Watch streams look for a change. */
export const WATCH_POLL_MS = 500;

type ServingStatus = 'SERVING' | 'NOT_SERVING';
/** A Watch's status: the protocol's SERVICE_UNKNOWN for a name that is neither the server nor a model (yet). */
type WatchStatus = ServingStatus | 'SERVICE_UNKNOWN';

interface Watcher {
  readonly call: ServerWritableStream<{ service: string }, { status: WatchStatus }>;
  last: WatchStatus;
}

export interface HealthService {
  readonly implementation: UntypedServiceImplementation;
  /** Ends every Watch with NOT_SERVING and stops polling; later Watch calls get NOT_SERVING and end at once. */
  stop(): void;
}

export function healthService(dataplane: Dataplane, logger: Logger): HealthService {
  /** The status of `service`, or undefined for a name that is neither the server nor a model. */
  const statusOf = (service: string): ServingStatus | undefined => {
    if (SERVER_HEALTH_NAMES.includes(service)) return dataplane.readinessProblems().length === 0 ? 'SERVING' : 'NOT_SERVING';
    try {
      dataplane.assertModelReady(service);
      return dataplane.draining ? 'NOT_SERVING' : 'SERVING';
    } catch (error) {
      if (error instanceof ModelNotFoundError) return undefined;
      if (error instanceof LongshoreError) return 'NOT_SERVING';
      throw error;
    }
  };
  const watchers = new Set<Watcher>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = () => {
    for (const watcher of watchers) {
      const now = statusOf(watcher.call.request.service) ?? 'SERVICE_UNKNOWN';
      if (now !== watcher.last) {
        watcher.last = now;
        watcher.call.write({ status: now });
      }
    }
  };
  const forget = (watcher: Watcher) => {
    watchers.delete(watcher);
    if (watchers.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const implementation: UntypedServiceImplementation = {
    Check: unary('grpc.health.v1.Health/Check', logger, (call: ServerUnaryCall<{ service: string }, unknown>) => {
      const status = statusOf(call.request.service);
      if (status === undefined) throw unknownService(call.request.service);
      return { status };
    }),
    List: unary('grpc.health.v1.Health/List', logger, () => {
      const names = [...SERVER_HEALTH_NAMES, ...new Set(dataplane.documentedModels().map((model) => model.name))];
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const name of names) {
        const status = statusOf(name);
        if (status !== undefined) statuses[name] = { status };
      }
      return { statuses };
    }),
    Watch: (call: Watcher['call']) => {
      if (stopped) {
        call.write({ status: 'NOT_SERVING' });
        call.end();
        return;
      }
      const watcher: Watcher = { call, last: statusOf(call.request.service) ?? 'SERVICE_UNKNOWN' };
      call.write({ status: watcher.last });
      watchers.add(watcher);
      call.once('cancelled', () => forget(watcher));
      timer ??= setInterval(poll, WATCH_POLL_MS).unref();
    },
  };
  return {
    implementation,
    stop() {
      stopped = true;
      for (const watcher of watchers) {
        if (watcher.last !== 'NOT_SERVING') watcher.call.write({ status: 'NOT_SERVING' });
        watcher.call.end();
        forget(watcher);
      }
    },
  };
}

function unknownService(service: string): ModelNotFoundError {
  return new ModelNotFoundError(`no health status for service '${service}': it is neither the server ("" or inference.GRPCInferenceService) nor a served model`);
}

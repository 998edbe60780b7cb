/**
 * The tracer a server starts with: undefined while `tracing.enabled` is false (nothing is imported: the OpenTelemetry
 * SDK stays unloaded), else the OpenTelemetry one (otel.ts, imported here and only here).
 */
import type { TracingSettings } from './span.js';
import type { Tracing } from './span.js';

export async function loadTracing(settings: TracingSettings, serviceTitle: string, serviceVersion: string): Promise<Tracing | undefined> {
  if (!settings.enabled) return undefined;
  const { createOtelTracing } = await import('./otel.js');
  return createOtelTracing(settings, settings.service_name ?? serviceTitle, serviceVersion);
}

/**
 * The OpenTelemetry adapter: span records → SDK `ReadableSpan`s → a span processor and exporter.
 * Every `@opentelemetry/*` module is imported dynamically, so a process with tracing off never
 * loads the SDK.
 */
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Resource } from '@opentelemetry/resources';
import type { SpanSink } from './tracer.ts';
import type { SpanRecord } from './spans.ts';

const INSTRUMENTATION_SCOPE = { name: 'switchboard', version: '0.1.0' };

// Numeric values of @opentelemetry/api's SpanKind and SpanStatusCode (stable in the spec).
const KIND = { internal: 0, client: 3 } as const;
const STATUS = { unset: 0, ok: 1, error: 2 } as const;

const hr = (ms: number): [number, number] => {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
};

/** Convert a span record into the SDK's finished-span shape. */
export function toReadableSpan(r: SpanRecord, resource: Resource): ReadableSpan {
  const ctx = { traceId: r.traceId, spanId: r.spanId, traceFlags: 1 };
  return {
    name: r.name,
    kind: KIND[r.kind],
    spanContext: () => ctx,
    ...(r.parentSpanId
      ? { parentSpanContext: { traceId: r.traceId, spanId: r.parentSpanId, traceFlags: 1, isRemote: false } }
      : {}),
    startTime: hr(r.startMs),
    endTime: hr(r.endMs),
    status: { code: STATUS[r.status.code], ...(r.status.message ? { message: r.status.message } : {}) },
    attributes: r.attributes,
    links: [],
    events: r.events.map((e) => ({ name: e.name, time: hr(e.timeMs), attributes: e.attributes })),
    duration: hr(r.endMs - r.startMs),
    ended: true,
    resource,
    instrumentationScope: INSTRUMENTATION_SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** The batch span processor's settings; unset fields keep the SDK's defaults (5 s, 30 s, 512, 2048). */
export interface BatchSettings {
  /** Delay between two exports (`OTEL_BSP_SCHEDULE_DELAY`). */
  scheduleDelayMs?: number;
  /** How long an export may run (`OTEL_BSP_EXPORT_TIMEOUT`). */
  exportTimeoutMs?: number;
  /** Spans per export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`), at most `maxQueueSize`. */
  maxExportBatchSize?: number;
  /** Spans queued before new ones are dropped (`OTEL_BSP_MAX_QUEUE_SIZE`). */
  maxQueueSize?: number;
}

/**
 * The `OTEL_BSP_*` variable of each setting. The SDK no longer reads them itself, so they are read
 * here, from the environment the configuration compiled (never `process.env`).
 */
export const BSP_VARIABLES = {
  scheduleDelayMs: 'OTEL_BSP_SCHEDULE_DELAY',
  exportTimeoutMs: 'OTEL_BSP_EXPORT_TIMEOUT',
  maxExportBatchSize: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  maxQueueSize: 'OTEL_BSP_MAX_QUEUE_SIZE',
} as const satisfies Record<keyof BatchSettings, string>;

/** `OTEL_BSP_*` variables of batch settings (what a serving process hands the telemetry). */
export function batchEnv(batch: BatchSettings = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, variable] of Object.entries(BSP_VARIABLES)) {
    const value = batch[key as keyof BatchSettings];
    if (value !== undefined) out[variable] = String(value);
  }
  return out;
}

/** Batch settings from `OTEL_BSP_*` variables; a value that is not a non-negative integer is ignored. */
export function batchSettingsFromEnv(env: NodeJS.ProcessEnv): BatchSettings {
  const out: BatchSettings = {};
  for (const [key, variable] of Object.entries(BSP_VARIABLES)) {
    const raw = env[variable]?.trim();
    if (raw && /^\d+$/.test(raw)) out[key as keyof BatchSettings] = Number(raw);
  }
  return out;
}

export interface OtelSinkOptions {
  /** `service.name` of the resource (default `$OTEL_SERVICE_NAME` or `switchboard`). */
  serviceName?: string;
  /** Batch spans (BatchSpanProcessor with these settings); off exports each batch at once. */
  batch?: boolean | BatchSettings;
}

/**
 * A sink over any OpenTelemetry span exporter (OTLP, in-memory, console).
 * @example
 * const sink = await otelSink(new InMemorySpanExporter());
 */
export async function otelSink(exporter: SpanExporter, options: OtelSinkOptions = {}): Promise<SpanSink> {
  const [{ resourceFromAttributes, defaultResource }, sdk] = await Promise.all([
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
  ]);
  const resource = defaultResource().merge(
    resourceFromAttributes({
      'service.name': options.serviceName ?? 'switchboard',
    }),
  );
  const batch = options.batch === true ? {} : options.batch;
  const processor: SpanProcessor = batch
    ? new sdk.BatchSpanProcessor({
        exporter,
        ...(batch.scheduleDelayMs !== undefined ? { scheduledDelayMillis: batch.scheduleDelayMs } : {}),
        ...(batch.exportTimeoutMs !== undefined ? { exportTimeoutMillis: batch.exportTimeoutMs } : {}),
        // A queue smaller than the default batch (512) takes the batch down with it.
        ...(batch.maxExportBatchSize !== undefined || batch.maxQueueSize !== undefined
          ? { maxExportBatchSize: batch.maxExportBatchSize ?? Math.min(512, batch.maxQueueSize ?? 512) }
          : {}),
        ...(batch.maxQueueSize !== undefined ? { maxQueueSize: batch.maxQueueSize } : {}),
      })
    : new sdk.SimpleSpanProcessor({ exporter });
  return {
    export(spans) {
      for (const s of spans) processor.onEnd(toReadableSpan(s, resource));
    },
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
}

/** True when the standard variables ask for trace export. */
export function tracesEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').every((x) => x.trim() === 'none')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * An OTLP/HTTP (JSON) sink configured by the standard `OTEL_EXPORTER_OTLP_*` variables (endpoint,
 * headers, timeout, compression), batched as `OTEL_BSP_*` say; null when export is not enabled.
 */
export async function otlpSinkFromEnv(env: NodeJS.ProcessEnv): Promise<SpanSink | null> {
  if (!tracesEnabled(env)) return null;
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  // The endpoint is passed explicitly: the configuration, not the process environment, decides.
  const base = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? base : `${(base ?? '').replace(/\/$/, '')}/v1/traces`;
  return otelSink(new OTLPTraceExporter(url ? { url } : {}), {
    batch: batchSettingsFromEnv(env),
    ...(env.OTEL_SERVICE_NAME ? { serviceName: env.OTEL_SERVICE_NAME } : {}),
  });
}

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

export interface OtelSinkOptions {
  /** `service.name` of the resource (default `$OTEL_SERVICE_NAME` or `switchboard`). */
  serviceName?: string;
  /** Batch spans (BatchSpanProcessor, honours `OTEL_BSP_*`); off exports each batch at once. */
  batch?: boolean;
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
  const processor: SpanProcessor = options.batch
    ? new sdk.BatchSpanProcessor({ exporter })
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
 * headers, timeout, compression), batched; null when export is not enabled.
 */
export async function otlpSinkFromEnv(env: NodeJS.ProcessEnv): Promise<SpanSink | null> {
  if (!tracesEnabled(env)) return null;
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  // The endpoint is passed explicitly: the configuration, not the process environment, decides.
  const base = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? base : `${(base ?? '').replace(/\/$/, '')}/v1/traces`;
  return otelSink(new OTLPTraceExporter(url ? { url } : {}), {
    batch: true,
    ...(env.OTEL_SERVICE_NAME ? { serviceName: env.OTEL_SERVICE_NAME } : {}),
  });
}

/**
 * Telemetry of a system, attached from outside through `store.listen` and the journal: traces
 * (OpenTelemetry, exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set), Prometheus
 * metrics, structured logs. Every view derives from the journal, so they never disagree.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/ports.ts';
import { priceTable, type PriceTable } from './cost.ts';
import { attachJournalLogger } from './logs.ts';
import { createMetrics, type MetricsOptions, type SwitchboardMetrics } from './metrics.ts';
import { otlpSinkFromEnv } from './otel.ts';
import { JournalTracer, type SpanSink } from './tracer.ts';

export interface TelemetryOptions {
  store: Store;
  /** Agent names or `name@version` keys (queue-depth gauges). */
  agents?: readonly string[];
  /** Labeled versions no live worker serves (`system.deployments.unserved`): the `version_not_served` gauge. */
  unserved?: MetricsOptions['unserved'];
  /** A span sink; by default OTLP/HTTP from the `OTEL_*` variables, or no tracing when unset. */
  spans?: SpanSink | false;
  /** Record message content in spans (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`). */
  captureContent?: boolean;
  /** Secret values that must never be exported (tool configuration, API keys). */
  secrets?: readonly string[];
  prices?: PriceTable;
  /** Prometheus metrics (default on). */
  metrics?: boolean;
  /** A pino logger for journal events, `false` for none (default: JSON to stdout at `logLevel`). */
  logger?: Logger | false;
  /** `OTEL_*` settings (src/config.ts translates the configuration into them); none by default. */
  env?: NodeJS.ProcessEnv;
  /** Level of the default logger (`telemetry.logLevel`, default info). */
  logLevel?: string;
}

export interface Telemetry {
  tracer: JournalTracer | null;
  metrics: SwitchboardMetrics | null;
  prices: PriceTable;
  /** Wait until every appended event is traced, counted and exported. */
  flush(): Promise<void>;
  /** Detach from the store and shut the exporter down. */
  stop(): Promise<void>;
}

/**
 * Attach telemetry to a system's store. The OpenTelemetry SDK is loaded only when a sink is used.
 * @example
 * const telemetry = await attachTelemetry({ store: system.store, agents: ['support', 'billing'] });
 * // …
 * await telemetry.stop();
 */
export async function attachTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? {};
  const prices = options.prices ?? priceTable({}, env);
  const detach: (() => void)[] = [];
  const sink = options.spans === false ? null : (options.spans ?? (await otlpSinkFromEnv(env)));
  let tracer: JournalTracer | null = null;
  if (sink) {
    tracer = new JournalTracer(options.store, {
      sink,
      captureContent:
        options.captureContent ?? env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === 'true',
      ...(options.secrets ? { secrets: options.secrets } : {}),
      prices,
    });
    detach.push(tracer.attach());
  }
  const metrics =
    options.metrics === false
      ? null
      : createMetrics({
          store: options.store,
          ...(options.agents ? { agents: options.agents } : {}),
          ...(options.unserved ? { unserved: options.unserved } : {}),
          prices,
        });
  if (metrics) detach.push(metrics.attach());
  if (options.logger !== false)
    detach.push(
      attachJournalLogger(options.store, {
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.logLevel ? { level: options.logLevel } : {}),
        ...(options.secrets ? { secrets: options.secrets } : {}),
      }),
    );
  const flush = async (): Promise<void> => {
    await Promise.all([tracer?.flush(), metrics?.flush()]);
  };
  return {
    tracer,
    metrics,
    prices,
    flush,
    async stop() {
      for (const d of detach) d();
      await tracer?.shutdown();
    },
  };
}

export { JournalTracer } from './tracer.ts';
export type { SpanSink, JournalTracerOptions } from './tracer.ts';
export { otelSink, otlpSinkFromEnv, tracesEnabled } from './otel.ts';
export { createMetrics } from './metrics.ts';
export type { SwitchboardMetrics, MetricsOptions } from './metrics.ts';
export { attachJournalLogger } from './logs.ts';
export { DEFAULT_PRICES, priceTable, priceOf, costOf, runUsage, treeUsage, usageReport } from './cost.ts';
export type { PriceTable, ModelPrice, Usage, TreeUsage, UsageRow, UsageDimension } from './cost.ts';
export { agentHealth, DEFAULT_HEALTH_THRESHOLDS } from './health.ts';
export type { AgentHealth, HealthStatus, HealthThresholds } from './health.ts';
export { runGraph, windowGraph, graphOf, toMermaid } from './graph.ts';
export type { OrchestrationGraph, GraphNode, GraphEdge } from './graph.ts';
export { traceIdOf, spanIdOf, formatTraceparent, parseTraceparent, toolTraceHeaders } from './ids.ts';

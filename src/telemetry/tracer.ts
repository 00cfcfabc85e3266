/**
 * The journal tracer: listens to appends (`store.listen`), turns each run's events into spans with
 * {@link RunSpans}, and hands ended spans to a sink. A run this process has not seen from its start
 * (a restart, another worker wrote the beginning) is caught up from the journal first, silently:
 * its open spans are rebuilt with the same ids, so the trace continues instead of breaking.
 */
import type { EventPayloads, JournalEvent } from '../core/events.ts';
import type { Store, StoreListener } from '../store/ports.ts';
import type { PriceTable } from './cost.ts';
import { parseTraceparent, spanIdOf, traceIdOf } from './ids.ts';
import { createRedactor, type RedactionOptions } from './redact.ts';
import { RunSpans, type RunPlacement, type SpanRecord } from './spans.ts';

/** Where ended spans go (an OpenTelemetry exporter behind an adapter, or a test array). */
export interface SpanSink {
  export(spans: SpanRecord[]): void | Promise<void>;
  forceFlush?(): Promise<void>;
  shutdown?(): Promise<void>;
}

export interface JournalTracerOptions extends RedactionOptions {
  sink: SpanSink;
  /** Record message content (inputs, model text, tool arguments and results). Off by default. */
  captureContent?: boolean;
  prices?: PriceTable;
  maxAttributeLength?: number;
  /** Most runs kept in memory while open (oldest dropped; a later event catches them up again). */
  maxOpenRuns?: number;
  onError?: (error: unknown) => void;
}

/** The submitted payload, with the optional W3C parent a gateway may record. */
type Submitted = EventPayloads['run.submitted'] & { traceparent?: string };

export class JournalTracer {
  readonly #store: Store;
  readonly #o: JournalTracerOptions;
  readonly #runs = new Map<string, RunSpans>();
  readonly #lastSeq = new Map<string, number>();
  readonly #placements = new Map<string, RunPlacement>();
  readonly #redactor;
  #chain: Promise<void> = Promise.resolve();

  constructor(store: Store, options: JournalTracerOptions) {
    this.#store = store;
    this.#o = options;
    this.#redactor = createRedactor(options);
  }

  /** A store listener; events are processed in order on an internal chain. */
  get listener(): StoreListener {
    return { appended: (events) => this.push(events) };
  }

  /** Start following the store; returns the unsubscribe function. */
  attach(): () => void {
    return this.#store.listen(this.listener);
  }

  /** Queue appended events for tracing. */
  push(events: readonly JournalEvent[]): void {
    const batch = [...events];
    this.#chain = this.#chain.then(
      () => this.#handle(batch),
      () => this.#handle(batch),
    );
  }

  /** Resolves when every queued event is traced and the sink has flushed. */
  async flush(): Promise<void> {
    await this.#chain;
    await this.#o.sink.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await this.flush();
    await this.#o.sink.shutdown?.();
  }

  /** The trace id of a run (a delegated run shares its root's). */
  async traceIdOf(runId: string): Promise<string> {
    return (await this.#placement(runId)).traceId;
  }

  async #handle(batch: JournalEvent[]): Promise<void> {
    try {
      const ended: SpanRecord[] = [];
      const byRun = new Map<string, JournalEvent[]>();
      for (const e of batch) {
        const list = byRun.get(e.runId) ?? [];
        list.push(e);
        byRun.set(e.runId, list);
      }
      for (const [runId, events] of byRun) ended.push(...(await this.#feed(runId, events)));
      if (ended.length) await this.#o.sink.export(ended);
    } catch (error) {
      (this.#o.onError ?? defaultOnError)(error);
    }
  }

  async #feed(runId: string, events: JournalEvent[]): Promise<SpanRecord[]> {
    const out: SpanRecord[] = [];
    let spans = this.#runs.get(runId);
    let last = this.#lastSeq.get(runId) ?? 0;
    const firstSeq = events[0]?.seq ?? 1;
    if (!spans) {
      const first = firstSeq === 1 ? events[0] : (await this.#store.journal.read(runId, 0, 1))[0];
      if (first?.type !== 'run.submitted') return out;
      spans = new RunSpans(runId, await this.#placement(runId, first.data), {
        redactor: this.#redactor,
        ...(this.#o.captureContent !== undefined ? { captureContent: this.#o.captureContent } : {}),
        ...(this.#o.prices ? { prices: this.#o.prices } : {}),
        ...(this.#o.maxAttributeLength ? { maxAttributeLength: this.#o.maxAttributeLength } : {}),
      });
      this.#remember(runId, spans);
      last = 0;
      // Caught up silently: spans that ended before this process saw the run were exported by
      // whoever saw them end.
      if (firstSeq > 1) {
        for (const e of await this.#store.journal.read(runId, 0, firstSeq - 1)) spans.apply(e);
        last = firstSeq - 1;
      }
    }
    if (firstSeq > last + 1) {
      // Appends made elsewhere that this process was not told about: read them, in order.
      for (const e of await this.#store.journal.read(runId, last, firstSeq - 1 - last))
        out.push(...spans.apply(e));
    }
    for (const e of events) {
      if (e.seq <= last) continue;
      out.push(...spans.apply(e));
      last = e.seq;
    }
    this.#lastSeq.set(runId, last);
    if (spans.ended) {
      this.#runs.delete(runId);
      this.#lastSeq.delete(runId);
    }
    return out;
  }

  #remember(runId: string, spans: RunSpans): void {
    const max = this.#o.maxOpenRuns ?? 10_000;
    if (this.#runs.size >= max) {
      const oldest = this.#runs.keys().next().value;
      if (oldest !== undefined) {
        this.#runs.delete(oldest);
        this.#lastSeq.delete(oldest);
      }
    }
    this.#runs.set(runId, spans);
  }

  async #placement(runId: string, submitted?: Submitted): Promise<RunPlacement> {
    const known = this.#placements.get(runId);
    if (known) return known;
    let sub = submitted;
    if (!sub) {
      const first = (await this.#store.journal.read(runId, 0, 1))[0];
      sub = first?.type === 'run.submitted' ? first.data : undefined;
    }
    let place: RunPlacement;
    const incoming = parseTraceparent(sub?.traceparent);
    if (sub?.parentRunId) {
      // A delegated run continues its parent's trace under the delegating call's span.
      const parent = await this.#placement(sub.parentRunId);
      place = {
        traceId: parent.traceId,
        ...(sub.parentCallId ? { parentSpanId: spanIdOf(sub.parentRunId, `call:${sub.parentCallId}`) } : {}),
      };
    } else if (incoming) {
      place = { traceId: incoming.traceId, parentSpanId: incoming.spanId };
    } else {
      place = { traceId: traceIdOf(runId) };
    }
    if (this.#placements.size > 50_000) this.#placements.clear();
    this.#placements.set(runId, place);
    return place;
  }
}

function defaultOnError(error: unknown): void {
  console.error('[switchboard telemetry]', error instanceof Error ? error.message : error);
}

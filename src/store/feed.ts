/**
 * The one journal follower: live fan-out of runs' journals to subscribers — the gateway's SSE and
 * WebSocket feeds, and `system.events` (runtime/follow.ts). One store listener serves every
 * subscriber (a listener per subscriber would cost O(subscribers) on every append); each
 * subscription replays the journal after its `after` seq, then follows live appends with no gap and
 * no repeat, and receives a heartbeat when its run has been silent for `heartbeatMs` (after a read
 * of the journal, which catches other processes' appends).
 */
import { TERMINAL_EVENTS, type EventOf, type JournalEvent } from '../core/events.ts';
import type { Store } from './ports.ts';

/** A heartbeat: not journaled, sent so users never face silence. */
export interface Heartbeat {
  runId: string;
  lastSeq: number;
  message: string;
  silentMs: number;
}

export interface FeedSink {
  event(e: JournalEvent): void;
  heartbeat(h: Heartbeat): void;
  /** The run ended (its terminal event was delivered) or the feed failed. */
  end(error?: unknown): void;
}

export interface Subscription {
  readonly runId: string;
  readonly lastSeq: number;
  close(): void;
}

interface Sub extends Subscription {
  lastSeq: number;
  sink: FeedSink;
  catching: boolean;
  pending: JournalEvent[];
  lastActivity: number;
  lastType: string | null;
  closed: boolean;
  endedAt: number | undefined;
}

export interface RunFeedOptions {
  heartbeatMs?: number;
  /** Read the journal of a silent subscription before sending a heartbeat (appends by other processes). */
  pollSilent?: boolean;
  now?: () => number;
  onError?: (error: unknown) => void;
}

const PAGE = 500;

/** Plain-language heartbeat by what the run last did. */
function heartbeatMessage(lastType: string | null): string {
  if (lastType === 'approval.requested') return 'Waiting for an approver…';
  if (lastType === 'tool.failed') return 'Retrying a step…';
  if (lastType === 'delegation.requested') return 'Another team is working on it…';
  return 'Still working on it…';
}

/** The fan-out hub. `close()` ends every subscription. */
export class RunFeed {
  readonly #store: Store;
  readonly #subs = new Map<string, Set<Sub>>();
  readonly #submitted = new Set<(e: EventOf<'run.submitted'>) => void>();
  readonly #heartbeatMs: number;
  readonly #pollSilent: boolean;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #unlisten: () => void;
  readonly #timer: NodeJS.Timeout;
  #ticking = false;

  constructor(store: Store, options: RunFeedOptions = {}) {
    this.#store = store;
    this.#heartbeatMs = options.heartbeatMs ?? 5000;
    this.#pollSilent = options.pollSilent ?? true;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#unlisten = store.listen({ appended: (events) => this.#appended(events) });
    this.#timer = setInterval(() => void this.#tick(), Math.max(20, Math.min(1000, this.#heartbeatMs / 4)));
    this.#timer.unref();
  }

  /** Number of open subscriptions. */
  get size(): number {
    let n = 0;
    for (const s of this.#subs.values()) n += s.size;
    return n;
  }

  /**
   * Follow `runId` from after `after`. The caller has checked the caller may see the run.
   * `endedAt`: the seq of the run's terminal event when it had already ended (nothing follows it).
   */
  subscribe(runId: string, after: number, sink: FeedSink, endedAt?: number): Subscription {
    const sub: Sub = {
      runId,
      lastSeq: after,
      sink,
      catching: true,
      pending: [],
      lastActivity: this.#now(),
      lastType: null,
      closed: false,
      endedAt,
      close: () => this.#remove(sub),
    };
    // Registered before the catch-up read: appends racing the read are buffered, not lost.
    let set = this.#subs.get(runId);
    if (!set) this.#subs.set(runId, (set = new Set()));
    set.add(sub);
    void this.#catchUp(sub);
    return sub;
  }

  /** Be told of every run submitted through this process's store. */
  onSubmitted(listener: (e: EventOf<'run.submitted'>) => void): () => void {
    this.#submitted.add(listener);
    return () => this.#submitted.delete(listener);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#unlisten();
    for (const set of this.#subs.values()) for (const s of set) s.closed = true;
    this.#subs.clear();
    this.#submitted.clear();
  }

  #remove(sub: Sub): void {
    sub.closed = true;
    const set = this.#subs.get(sub.runId);
    set?.delete(sub);
    if (set?.size === 0) this.#subs.delete(sub.runId);
  }

  /** Deliver the next event in order; false once the subscription is over. */
  #deliver(sub: Sub, e: JournalEvent): boolean {
    if (sub.closed) return false;
    if (e.seq <= sub.lastSeq) return true;
    sub.lastSeq = e.seq;
    sub.lastActivity = this.#now();
    sub.lastType = e.type;
    try {
      sub.sink.event(e);
    } catch (error) {
      this.#onError(error);
    }
    if (TERMINAL_EVENTS.has(e.type)) {
      this.#remove(sub);
      sub.sink.end();
      return false;
    }
    return !sub.closed;
  }

  async #catchUp(sub: Sub): Promise<void> {
    sub.catching = true;
    try {
      for (;;) {
        const batch = await this.#store.journal.read(sub.runId, sub.lastSeq, PAGE);
        for (const e of batch) if (!this.#deliver(sub, e)) return;
        if (batch.length === PAGE) continue;
        // No await from here to `catching = false`: no live append can slip between the two.
        const pending = sub.pending.splice(0).sort((a, b) => a.seq - b.seq);
        let gap = false;
        for (const e of pending) {
          if (e.seq > sub.lastSeq + 1) {
            gap = true;
            break;
          }
          if (!this.#deliver(sub, e)) return;
        }
        if (!gap) {
          sub.catching = false;
          // Subscribed at or after the end of a finished run: the read found nothing more.
          if (sub.endedAt !== undefined && sub.lastSeq >= sub.endedAt) {
            this.#remove(sub);
            sub.sink.end();
          }
          return;
        }
      }
    } catch (error) {
      this.#remove(sub);
      sub.sink.end(error);
    }
  }

  #appended(events: readonly JournalEvent[]): void {
    for (const e of events) {
      if (e.type === 'run.submitted') for (const l of this.#submitted) l(e);
      const set = this.#subs.get(e.runId);
      if (!set) continue;
      for (const sub of [...set]) {
        if (sub.catching) sub.pending.push(e);
        else if (e.seq === sub.lastSeq + 1) this.#deliver(sub, e);
        else if (e.seq > sub.lastSeq + 1) {
          sub.pending.push(e);
          void this.#catchUp(sub);
        }
      }
    }
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = this.#now();
      for (const set of [...this.#subs.values()]) {
        for (const sub of [...set]) {
          if (sub.closed || sub.catching || now - sub.lastActivity < this.#heartbeatMs) continue;
          if (this.#pollSilent) {
            const before = sub.lastSeq;
            sub.catching = true;
            await this.#catchUp(sub);
            if (sub.closed || sub.lastSeq !== before) continue;
          }
          const silentMs = now - sub.lastActivity;
          sub.lastActivity = now;
          try {
            sub.sink.heartbeat({
              runId: sub.runId,
              lastSeq: sub.lastSeq,
              message: heartbeatMessage(sub.lastType),
              silentMs,
            });
          } catch (error) {
            this.#onError(error);
          }
        }
      }
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#ticking = false;
    }
  }
}

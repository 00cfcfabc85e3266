/**
 * Following a run's journal as an async iterator (`system.events`): a subscription on the store's
 * one follower (store/feed.ts) — in-process append notices first, the journal for gaps and for
 * other processes' appends, a read of the journal every `pollMs` of silence as the backstop.
 */
import type { JournalEvent } from '../core/events.ts';
import { RunFeed } from '../store/feed.ts';
import type { Store } from '../store/ports.ts';

/**
 * The run's events after seq `after`; with `follow`, then its appends until its terminal event (or
 * `signal` aborts). Without `follow`, or already aborted, one read of the journal.
 */
export async function* followEvents(
  store: Store,
  runId: string,
  after: number,
  follow: boolean,
  signal: AbortSignal | undefined,
  pollMs: number,
): AsyncGenerator<JournalEvent> {
  if (!follow || signal?.aborted) {
    yield* await store.journal.read(runId, after);
    return;
  }
  const queue: JournalEvent[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    wake?.();
    wake = null;
  };
  // The heartbeat is the poll: the feed reads the journal of a run silent for pollMs first.
  const feed = new RunFeed(store, { heartbeatMs: pollMs, pollSilent: true });
  const sub = feed.subscribe(runId, after, {
    event: (e) => {
      queue.push(e);
      poke();
    },
    heartbeat: () => {},
    end: (error) => {
      ended = true;
      failure = feedFailure(error);
      poke();
    },
  });
  signal?.addEventListener('abort', poke);
  try {
    for (;;) {
      for (let e = queue.shift(); e; e = queue.shift()) yield e;
      if (failure) throw failure;
      if (ended || signal?.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    sub.close();
    feed.close();
    signal?.removeEventListener('abort', poke);
  }
}

/** What the feed's end reports, as {@link followEvents} throws it. */
const feedFailure = (error: unknown): Error | undefined =>
  error === undefined || error instanceof Error ? error : new Error('journal read failed', { cause: error });

/**
 * {@link followEvents} with `follow`, as callbacks: each event goes to `onEvent` as the feed delivers
 * it (no promise and iterator result per event), until the run's terminal event, `signal` aborts,
 * or `onEvent` returns true. Already aborted: one read of the journal. `system.wait` follows so.
 */
export function followRun(
  store: Store,
  runId: string,
  after: number,
  signal: AbortSignal | undefined,
  pollMs: number,
  onEvent: (e: JournalEvent) => boolean,
): Promise<void> {
  if (signal?.aborted)
    return store.journal.read(runId, after).then((events) => {
      for (const e of events) if (onEvent(e)) return;
    });
  return new Promise<void>((resolve, reject) => {
    const feed = new RunFeed(store, { heartbeatMs: pollMs, pollSilent: true });
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      sub.close();
      feed.close();
      signal?.removeEventListener('abort', abort);
      if (error) reject(error);
      else resolve();
    };
    const abort = (): void => finish();
    // The feed delivers nothing before its first read has answered: `sub` is set by then.
    const sub = feed.subscribe(runId, after, {
      event: (e) => {
        if (!done && onEvent(e)) finish();
      },
      heartbeat: () => {},
      end: (error) => finish(feedFailure(error)),
    });
    signal?.addEventListener('abort', abort);
  });
}

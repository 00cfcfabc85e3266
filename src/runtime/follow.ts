/**
 * Following a run's journal live: in-process append notices first (no query when contiguous), the
 * journal for gaps and other processes' appends, a poll as the backstop.
 */
import { TERMINAL_EVENTS, type JournalEvent } from '../core/events.ts';
import type { Store } from '../store/ports.ts';

/** Read a run's journal, then follow appends: in-process notifications first, a poll as a backstop. */
export async function* followEvents(
  store: Store,
  runId: string,
  after: number,
  follow: boolean,
  signal: AbortSignal | undefined,
  pollMs: number,
): AsyncGenerator<JournalEvent> {
  let seq = after;
  let wake: (() => void) | null = null;
  let notified = false;
  // Events announced in-process after their commit: served from here without a read when contiguous.
  let pushed: JournalEvent[] = [];
  const unlisten = store.listen({
    appended: (events) => {
      let mine = false;
      for (const e of events) {
        if (e.runId !== runId) continue;
        mine = true;
        if (follow) pushed.push(e);
      }
      if (mine) {
        notified = true;
        wake?.();
      }
    },
  });
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      const fresh = pushed.filter((e) => e.seq > seq).sort((a, b) => a.seq - b.seq);
      pushed = [];
      const contiguous =
        fresh.length > 0 && fresh[0]?.seq === seq + 1 && fresh.every((e, i) => e.seq === seq + 1 + i);
      // Anything else (a gap, another process's append, the first read) comes from the journal.
      const batch = contiguous ? fresh : await store.journal.read(runId, seq);
      for (const e of batch) {
        seq = e.seq;
        yield e;
        if (follow && TERMINAL_EVENTS.has(e.type)) return;
      }
      if (!follow || signal?.aborted) return;
      if (batch.length > 0 || notified) {
        notified = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    unlisten();
    signal?.removeEventListener('abort', onAbort);
  }
}

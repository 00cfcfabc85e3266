/**
 * Text deltas of a run's answer for live subscribers. Deltas are not journaled (the journal keeps
 * the final text in `model.responded`); when nobody listens, the engine does not stream at all.
 */
export class DeltaHub {
  readonly #subs = new Map<string, Set<(text: string) => void>>();

  listening(runId: string): boolean {
    return (this.#subs.get(runId)?.size ?? 0) > 0;
  }

  /** Receive `answer.delta` text for a run; returns the unsubscribe function. */
  subscribe(runId: string, fn: (text: string) => void): () => void {
    const set = this.#subs.get(runId) ?? new Set();
    this.#subs.set(runId, set);
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.#subs.delete(runId);
    };
  }

  publish(runId: string, text: string): void {
    for (const fn of this.#subs.get(runId) ?? []) {
      try {
        fn(text);
      } catch {
        // A subscriber's failure never reaches the engine.
      }
    }
  }
}

/**
 * Live text of a run's model calls for subscribers, in two kinds (neither is journaled; the journal
 * keeps each step's text in `model.responded`; when nobody listens, the engine does not stream):
 *
 * - `model.text.delta`: every text delta of every model step as it arrives, with the step number.
 *   It may be text a model writes before its tool calls — not the answer.
 * - `answer.delta`: the run's answer only. A step's text is the answer when the step ends without
 *   tool calls, which is known only at its end: its text then goes out as answer deltas, in the
 *   pieces it arrived in, so the answer deltas of a run concatenate to exactly its final answer.
 */
export type LiveText = { kind: 'answer'; text: string } | { kind: 'model-text'; step: number; text: string };

/** One model step's stream: `text` for each delta, `end(final)` once the step's content is known. */
export interface StepStream {
  text: (delta: string) => void;
  end: (final: boolean) => void;
}

export class DeltaHub {
  readonly #subs = new Map<string, Set<(d: LiveText) => void>>();

  listening(runId: string): boolean {
    return (this.#subs.get(runId)?.size ?? 0) > 0;
  }

  /** Receive a run's live text (both kinds); returns the unsubscribe function. */
  subscribe(runId: string, fn: (d: LiveText) => void): () => void {
    const set = this.#subs.get(runId) ?? new Set();
    this.#subs.set(runId, set);
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.#subs.delete(runId);
    };
  }

  publish(runId: string, d: LiveText): void {
    for (const fn of this.#subs.get(runId) ?? []) {
      try {
        fn(d);
      } catch {
        // A subscriber's failure never reaches the engine.
      }
    }
  }

  /** The stream of model step `step` of a run, or undefined when nobody listens (no streaming). */
  step(runId: string, step: number): StepStream | undefined {
    if (!this.listening(runId)) return undefined;
    const pieces: string[] = [];
    return {
      text: (text) => {
        pieces.push(text);
        this.publish(runId, { kind: 'model-text', step, text });
      },
      end: (final) => {
        if (final) for (const text of pieces) this.publish(runId, { kind: 'answer', text });
      },
    };
  }
}

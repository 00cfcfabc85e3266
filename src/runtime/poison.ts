/**
 * Poison runs. A run whose advancing throws the same error again and again (a commit the store
 * refuses, a hook that always throws) would otherwise be retried every `errorRetryMs` forever —
 * re-running its in-doubt tool each time. After `limit` identical failures in a row the run is
 * parked instead: `needs_attention` when a call is in doubt (a person decides whether it took
 * effect), else `failed`. Either way the error is journaled and the run has no wake-up.
 *
 * The count is per worker process (the failure is, by definition, not in the journal); a store
 * outage (the store's `isUnavailable`) never counts: that is the store's fault, not the run's.
 */
import { event, type ErrorData } from '../core/events.ts';
import { TERMINAL_STATUSES, totalsOf, type RunState } from '../core/run-state.ts';
import type { ClaimedTask, Commit, Store } from '../store/ports.ts';
import { RunHandle } from './handle.ts';

/** What parking a run needs of the engine (the engine itself is passed). */
interface ParkingEngine {
  readonly store: Store;
  load(runId: string): Promise<RunState | null>;
  forget(runId: string): void;
  endParts(state: RunState): Pick<Commit, 'session' | 'appends' | 'upsertTasks'>;
}

/** Consecutive identical failures per run. */
export class PoisonCounter {
  readonly limit: number;
  readonly #failures = new Map<string, { signature: string; count: number }>();
  /**
   * Runs this process could not park, with their journal's last seq then: left alone until
   * something else (an operator, a cancel) moves their journal.
   */
  readonly stuck = new Map<string, number>();

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
  }

  succeeded(runId: string): void {
    this.#failures.delete(runId);
  }

  /** Count a failure; true when it is the `limit`-th identical one in a row. */
  failed(runId: string, error: ErrorData): boolean {
    const signature = `${error.name}\u0000${error.code}\u0000${error.message}`;
    const last = this.#failures.get(runId);
    const count = last?.signature === signature ? last.count + 1 : 1;
    if (this.#failures.size >= 10_000 && !last) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    this.#failures.set(runId, { signature, count });
    if (count < this.limit) return false;
    this.#failures.delete(runId);
    return true;
  }
}

/** True when the store says the failure was its own unavailability (never a poison run). */
export const storeUnavailable = (store: Store, error: unknown): boolean =>
  store.isUnavailable?.(error) === true;

/** Text any store can hold: no NUL, no lone surrogates (the failure may have been about exactly that). */
const storable = (text: string): string => text.replaceAll('\u0000', '\\u0000').replace(/\p{Cs}/gu, '\uFFFD');

const storableError = (e: ErrorData): ErrorData => ({
  name: storable(e.name),
  code: storable(e.code),
  message: storable(e.message),
});

/**
 * Park a poison run, in one commit from its last committed state. If even that commit fails, the
 * wake-up is dropped and this process leaves the run alone; the error goes to the caller's log.
 */
export async function parkRun(
  engine: ParkingEngine,
  task: ClaimedTask,
  error: ErrorData,
  attempts: number,
): Promise<void> {
  engine.forget(task.runId);
  const fence = { runId: task.runId, fence: task.fence };
  const state = await engine.load(task.runId);
  engine.forget(task.runId);
  if (!state || TERMINAL_STATUSES.has(state.status) || state.status === 'needs_attention') {
    await engine.store.commit({ deleteTasks: [task.runId], fence });
    return;
  }
  const h = new RunHandle(engine.store, structuredClone(state), task.fence);
  const err = storableError(error);
  const why = `advancing the run failed ${attempts} times in a row with the same error (${err.name}: ${err.message})`;
  const inDoubt = state.calls.find((c) => c.phase === 'started');
  if (inDoubt) {
    const key = `${h.runId}:${inDoubt.call.callId}`;
    h.emit(
      event('run.needs_attention', {
        callId: inDoubt.call.callId,
        tool: inDoubt.call.toolName,
        idempotencyKey: key,
        reason: `${why}; ${inDoubt.call.toolName} is in doubt. Fix the cause, check whether it took effect (key ${key}), then resolve the run as succeeded, failed or retry.`,
        error: err,
      }),
    );
    await h.flush({ deleteTasks: [h.runId] });
    return;
  }
  // Nothing is in doubt: the run ends, releasing its session slot and its parent's wait.
  h.emit(
    event('run.failed', {
      error: { ...err, message: why, details: { poisonAttempts: attempts } },
      totals: totalsOf(h.state, engine.store.now()),
    }),
  );
  await h.flush({ deleteTasks: [h.runId], ...engine.endParts(h.state) });
}

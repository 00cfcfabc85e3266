/**
 * Read–fold–append–retry: the one way to append to a run from outside its lease holder (a
 * decision, a cancel, a resume, a redaction). The journal is read and folded, the caller plans
 * events from the folded state, and they are committed at the seq the fold ended on, with the run's
 * projection as the events leave it. A lost seq race refolds and plans again.
 */
import { ConflictError, NotFoundError } from '../core/errors.ts';
import { EVENT_SCHEMA_VERSION, type JournalEvent, type NewEvent } from '../core/events.ts';
import { foldRun, type RunState } from '../core/run-state.ts';
import type { Commit, RunRow, Store } from '../store/ports.ts';
import { projectRun } from './handle.ts';

/** The rest of a unit of work besides the run's own append and projection. */
export type CommitParts = Omit<Commit, 'projection'>;

/** What to append to a run, planned from its folded state. */
export interface FoldedPlan {
  /** The events, appended right after the seq the run was folded at. */
  events: NewEvent[];
  /**
   * The rest of the unit of work (tasks, approvals, other runs' appends), fixed or computed from
   * the run as the events leave it. Its appends land after the run's own.
   */
  parts?: CommitParts | ((after: RunState) => CommitParts);
  /** The run's projection row; {@link projectRun} of the state after the events by default. */
  project?: (after: RunState) => RunRow;
}

/** The run as folded before the plan (`state`), and after it, or null when nothing was appended. */
export interface Folded {
  state: RunState;
  after: RunState | null;
}

/**
 * Only a lost seq race is worth refolding: a closed journal stays closed, a duplicate stays
 * duplicate, and a lost lease belongs to someone else.
 */
function lostSeqRace(error: unknown): boolean {
  return error instanceof ConflictError && error.reason === 'seq';
}

/** A run's journal and its fold; a run without events is not found. */
async function readFolded(store: Store, runId: string): Promise<{ events: JournalEvent[]; state: RunState }> {
  const events = await store.journal.read(runId);
  if (events.length === 0) throw new NotFoundError(`run ${runId} not found`);
  return { events, state: foldRun(events) };
}

/**
 * Append to a run with the seq it was folded at, plus extra commit parts; `plan` is called on
 * every attempt with the freshly folded run and returns null to append nothing (it may also throw
 * to refuse). Retried while the append loses a seq race; any other error is the caller's.
 */
export async function appendFolded(
  store: Store,
  runId: string,
  plan: (state: RunState) => FoldedPlan | null,
): Promise<Folded> {
  for (;;) {
    const { events, state } = await readFolded(store, runId);
    const planned = plan(state);
    if (!planned) return { state, after: null };
    const at = store.now();
    const after = foldRun([
      ...events,
      ...planned.events.map((e, i) => ({ runId, seq: state.seq + 1 + i, at, v: EVENT_SCHEMA_VERSION, ...e })),
    ] as JournalEvent[]);
    const parts = typeof planned.parts === 'function' ? planned.parts(after) : (planned.parts ?? {});
    try {
      await store.commit({
        ...parts,
        // Appending at the folded seq proves nobody wrote in between: the plan still holds.
        appends: [{ runId, expectedSeq: state.seq + 1, events: planned.events }, ...(parts.appends ?? [])],
        projection: [(planned.project ?? projectRun)(after)],
      });
      return { state, after };
    } catch (error) {
      if (lostSeqRace(error)) continue;
      throw error;
    }
  }
}

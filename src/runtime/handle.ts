/**
 * A worker's grip on one run while it holds the run's lease: the folded state, the events not yet
 * committed, and the extra parts (child runs, tasks) that must land in the same transaction.
 */
import { ConflictError } from '../core/errors.ts';
import { EVENT_SCHEMA_VERSION, type JournalEvent, type NewEvent } from '../core/events.ts';
import { applyEvent, type RunState } from '../core/run-state.ts';
import type { Commit, RunRow, Store } from '../store/ports.ts';

/** The first 200 code units, never ending in half of a surrogate pair (an emoji cut in two). */
function clip(text: string, max = 200): string {
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return text.length > max && last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** The runs-projection row of a folded run. */
export function projectRun(state: RunState): RunRow {
  const s = state.submitted;
  let summary: string | null = null;
  if (state.output !== undefined) summary = clip(state.output);
  else if (state.error) summary = clip(`${state.error.name}: ${state.error.message}`);
  else if (state.attention) summary = clip(state.attention.reason);
  else if (state.escalation) summary = clip(state.escalation.reason);
  return {
    runId: state.runId,
    actorId: s.actorId,
    sessionId: s.sessionId,
    agent: state.agent ?? null,
    version: state.version ?? null,
    status: state.status,
    parentRunId: s.parentRunId ?? null,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    lastSeq: state.seq,
    summary,
  };
}

export class RunHandle {
  readonly store: Store;
  readonly fence: number | undefined;
  /** Aborted when the worker stops or loses the run's lease: tools get it as `ctx.signal`. */
  signal: AbortSignal | undefined;
  state: RunState;
  #buffer: NewEvent[] = [];
  #firstSeq: number;
  #extra: Required<Pick<Commit, 'appends' | 'upsertTasks' | 'projection' | 'approvals'>> = {
    appends: [],
    upsertTasks: [],
    projection: [],
    approvals: [],
  };
  #chain: Promise<unknown> = Promise.resolve();

  constructor(store: Store, state: RunState, fence: number | undefined) {
    this.store = store;
    this.state = state;
    this.fence = fence;
    this.signal = undefined;
    this.#firstSeq = state.seq + 1;
  }

  get runId(): string {
    return this.state.runId;
  }

  /** Buffer an event and fold it into the local state at once (the commit assigns the same seq). */
  emit(e: NewEvent): void {
    const je = {
      runId: this.state.runId,
      seq: this.state.seq + 1,
      at: this.store.now(),
      v: EVENT_SCHEMA_VERSION,
      ...e,
    };
    applyEvent(this.state, je);
    this.#buffer.push(e);
  }

  /** Add parts (child journals, tasks, projection rows) to the next commit. */
  include(parts: Pick<Commit, 'appends' | 'upsertTasks' | 'projection' | 'approvals'>): void {
    this.#extra.approvals.push(...(parts.approvals ?? []));
    this.#extra.appends.push(...(parts.appends ?? []));
    this.#extra.upsertTasks.push(...(parts.upsertTasks ?? []));
    this.#extra.projection.push(...(parts.projection ?? []));
  }

  /**
   * Commit buffered events with the extra parts and `more`. Fenced by the lease, and by the seq:
   * winning the append proves this worker still owns the run's next step.
   */
  async flush(more: Omit<Commit, 'fence' | 'projection'> = {}): Promise<JournalEvent[]> {
    await this.#chain;
    return this.#commit(more);
  }

  async #commit(more: Omit<Commit, 'fence' | 'projection'>): Promise<JournalEvent[]> {
    const events = this.#buffer;
    const commit: Commit = {
      ...more,
      appends: [
        ...(events.length ? [{ runId: this.runId, expectedSeq: this.#firstSeq, events }] : []),
        ...this.#extra.appends,
        ...(more.appends ?? []),
      ],
      upsertTasks: [...this.#extra.upsertTasks, ...(more.upsertTasks ?? [])],
      projection: [projectRun(this.state), ...this.#extra.projection],
      approvals: [...this.#extra.approvals, ...(more.approvals ?? [])],
    };
    if (this.fence !== undefined) commit.fence = { runId: this.runId, fence: this.fence };
    if (events.length === 0)
      commit.assertSeq = [...(more.assertSeq ?? []), { runId: this.runId, seq: this.state.seq }];
    this.#buffer = [];
    this.#extra = { appends: [], upsertTasks: [], projection: [], approvals: [] };
    this.#firstSeq = this.state.seq + 1;
    const result = await this.store.commit(commit);
    return result.events;
  }

  /** Append now, serialized after earlier appends (used for progress emitted mid-tool). */
  appendNow(e: NewEvent): Promise<void> {
    const next = this.#chain.then(async () => {
      if (this.#buffer.length > 0)
        throw new ConflictError('state', this.runId, 'appendNow with a non-empty buffer');
      this.emit(e);
      await this.#commit({});
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }
}

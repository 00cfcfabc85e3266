/**
 * The runtime's commands: what callers (the API, the gateway, the CLI) do to runs — submit one,
 * read it, cancel it, resolve an in-doubt call, decide an approval, reopen or close an escalated
 * run — and the sweep that gives runs their wake-ups back. Each one that writes appends through
 * {@link appendFolded}, so a command racing a worker (or another command) refolds and plans again.
 */
import { NotFoundError, UserError } from '../core/errors.ts';
import { event, type ErrorData, type NewEvent, type Totals } from '../core/events.ts';
import { foldRun, totalsOf, TERMINAL_STATUSES, type RunState, type RunStatus } from '../core/run-state.ts';
import type { Store } from '../store/ports.ts';
import { ROUTER_QUEUE } from './agents.ts';
import { appendFolded } from './append.ts';
import { approvalsApi, escalationsApi } from './approvals.ts';
import type { Engine } from './engine.ts';
import type { Faults } from './faults.ts';
import { projectRun } from './handle.ts';
import { submitRun, type SubmitRequest, type SubmitResult } from './submit.ts';

/** A run as callers see it. */
export interface RunView {
  runId: string;
  status: RunStatus;
  agent: string | null;
  actorId: string;
  sessionId: string;
  parentRunId: string | null;
  input: string;
  output?: string;
  error?: ErrorData;
  attention?: { callId: string; tool: string; reason: string };
  escalation?: { reason: string; summary?: string; by: string };
  totals: Totals;
  createdAt: number;
  updatedAt: number;
  lastSeq: number;
}

/** How a person settles a run's in-doubt call: it happened (with its result), it did not, or try again. */
export type Resolution =
  | { callId: string; resolution: 'succeeded'; result?: unknown; by: string }
  | { callId: string; resolution: 'failed'; message?: string; by: string }
  | { callId: string; resolution: 'retry'; by: string };

/** A run's state as a {@link RunView}; a live run's totals count up to `now`. */
export function viewOf(state: RunState, now: number): RunView {
  const sub = state.submitted;
  return {
    runId: state.runId,
    status: state.status,
    agent: state.agent ?? null,
    actorId: sub.actorId,
    sessionId: sub.sessionId,
    parentRunId: sub.parentRunId ?? null,
    input: sub.input,
    ...(state.output !== undefined ? { output: state.output } : {}),
    ...(state.error ? { error: state.error } : {}),
    ...(state.attention
      ? {
          attention: {
            callId: state.attention.callId,
            tool: state.attention.tool,
            reason: state.attention.reason,
          },
        }
      : {}),
    ...(state.escalation ? { escalation: state.escalation } : {}),
    totals: totalsOf(state, TERMINAL_STATUSES.has(state.status) ? state.updatedAt : now),
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    lastSeq: state.seq,
  };
}

/** What the commands run on. */
export interface CommandDeps {
  store: Store;
  engine: Engine;
  faults: Faults;
  /** How long a client message id deduplicates a submission (runtime/submit.ts). */
  dedupWindowMs: number;
}

/** The runtime's commands over one store and engine. */
export function runCommands(deps: CommandDeps) {
  const { store, engine } = deps;

  const fold = async (runId: string): Promise<RunState> => {
    const events = await store.journal.read(runId);
    if (events.length === 0) throw new NotFoundError(`run ${runId} not found`);
    return foldRun(events);
  };

  /**
   * End an active run with a terminal event (cancelled, or failed), its active children cancelled.
   * Returns the run as it is when it was already over.
   */
  const end = async (
    runId: string,
    terminal: (state: RunState) => NewEvent,
    children: { by: string; reason: string },
  ): Promise<RunView> => {
    const { state, after } = await appendFolded(store, runId, (state) =>
      TERMINAL_STATUSES.has(state.status)
        ? null
        : {
            events: [terminal(state)],
            // The run's wake-up goes with it, and the session moves on as it does when a run ends.
            parts: (after) => ({ ...engine.endParts(after), deleteTasks: [runId] }),
          },
    );
    if (!after) return viewOf(state, store.now());
    engine.forget(runId);
    for (const child of await store.runs.list({ parentRunId: runId })) {
      if (!TERMINAL_STATUSES.has(child.status)) await cancel(child.runId, children);
    }
    return viewOf(after, store.now());
  };

  const cancel = (runId: string, opts: { by?: string; reason?: string } = {}): Promise<RunView> =>
    end(
      runId,
      (state) =>
        event('run.cancelled', {
          reason: opts.reason ?? 'cancelled',
          by: opts.by ?? 'api',
          totals: totalsOf(state, store.now()),
        }),
      { by: opts.by ?? 'api', reason: 'parent run cancelled' },
    );

  return {
    /** Human approval checkpoints: list pending requests, decide them. */
    approvals: approvalsApi(engine, store),
    /** Runs handed to people: reopen or close them. */
    escalations: escalationsApi(engine, store),

    submit: (req: SubmitRequest): Promise<SubmitResult> => submitRun(deps, req),

    get: async (runId: string): Promise<RunView> => viewOf(await fold(runId), store.now()),

    cancel,

    /** Settle the in-doubt call a run stopped on, and wake the run. */
    resolve: async (runId: string, r: Resolution): Promise<RunView> => {
      const { after } = await appendFolded(store, runId, (state) => {
        if (state.status !== 'needs_attention' || state.attention?.callId !== r.callId) {
          throw new UserError(`run ${runId} has no in-doubt call ${r.callId} awaiting resolution`, 'callId');
        }
        const resumed = event('run.resumed', {
          callId: r.callId,
          resolution: r.resolution,
          by: r.by,
          ...(r.resolution === 'succeeded' ? { result: r.result ?? null } : {}),
          ...(r.resolution === 'failed' && r.message ? { message: r.message } : {}),
        });
        const queue = engine.queueOf(state.agent, state.version);
        return { events: [resumed], parts: { upsertTasks: [{ runId, queue, readyAt: store.now() }] } };
      });
      engine.forget(runId);
      // The plan never declines: a run that cannot be resumed throws above.
      return viewOf(after as RunState, store.now());
    },

    /**
     * Re-enqueue active runs that have no wake-up; returns how many. A run whose agent is not in
     * the configuration fails with the reason; `startup` also checks the agent named at submission
     * of runs not routed yet (their journal is read).
     */
    sweep: async (opts: { startup?: boolean } = {}): Promise<number> => {
      const pending = await store.queue.pendingRunIds();
      let n = 0;
      for (const row of await store.runs.runnable()) {
        const agent =
          row.agent ?? (opts.startup ? (await fold(row.runId)).submitted.agent : undefined) ?? null;
        // A run whose agent left the configuration (an edit under `switchboard dev`, a deploy)
        // cannot continue: it fails with the reason journaled instead of waiting forever.
        if (agent && !engine.agents.has(agent)) {
          const message = `agent "${agent}" is no longer in the configuration; the run cannot continue`;
          await end(
            row.runId,
            (state) =>
              event('run.failed', {
                error: { name: 'ConfigError', code: 'config_error', message },
                totals: totalsOf(state, store.now()),
              }),
            { by: 'system', reason: 'parent run failed' },
          );
          continue;
        }
        if (pending.has(row.runId)) continue;
        // A run on a version this process does not serve waits on that version's queue: a worker
        // serving it takes it, and until one does it is reported (deployments.unserved()).
        const queue =
          row.agent && engine.agents.has(row.agent)
            ? engine.queueOf(row.agent, row.version ?? undefined)
            : ROUTER_QUEUE;
        await store.queue.enqueue({ runId: row.runId, queue, readyAt: store.now() });
        n++;
      }
      // Retention: expired long-term facts go with the same sweep.
      await store.facts.sweep(store.now());
      return n;
    },

    /** Rebuild the runs projection from the journal; returns how many runs. */
    rebuildProjection: async (): Promise<number> => {
      const ids = await store.journal.runIds();
      for (const runId of ids) await store.commit({ projection: [projectRun(await fold(runId))] });
      return ids.length;
    },
  };
}

/** The commands a system exposes (see {@link runCommands}). */
export type RunCommands = ReturnType<typeof runCommands>;

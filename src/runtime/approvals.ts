/**
 * The human side of governance: deciding approvals, and taking escalated runs back. Every decision
 * and every refused attempt is journaled with who and why.
 */
import { verifyChain, type ChainVerdict } from '../core/audit.ts';
import {
  ConflictError,
  JournalClosedError,
  NotFoundError,
  PermissionError,
  UserError,
} from '../core/errors.ts';
import { CLOSING_EVENTS, event } from '../core/events.ts';
import { foldRun, type RunState } from '../core/run-state.ts';
import type { ApprovalQuery, ApprovalRow, RunQuery, RunRow, Store } from '../store/ports.ts';
import { appendFolded } from './append.ts';
import type { Engine } from './engine.ts';

/** A shadow run's actor (runtime/shadow.ts): its runs never appear in people's inboxes. */
export const isShadowActor = (actorId: string): boolean => actorId.startsWith('shadow:');

/** Who decides or acts on a run from outside it: an actor id and roles (`user`, `approver`, `operator`, `admin`). */
export interface Actor {
  id: string;
  roles: readonly string[];
}

export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  approver: Actor;
  comment?: string;
  /** When given, the decision holds only for these exact arguments. */
  argsDigest?: string;
}

/** The status a run ended with, when its journal is closed (it completed, failed or was cancelled). */
async function endedAs(store: Store, runId: string): Promise<string | null> {
  const events = await store.journal.read(runId);
  return events.some((e) => CLOSING_EVENTS.has(e.type)) ? foldRun(events).status : null;
}

export function approvalsApi(engine: Engine, store: Store) {
  const refuse = async (row: ApprovalRow, by: string, reason: string, error: Error): Promise<never> => {
    // A run that ended has a closed journal: the refusal is answered, not appended.
    if ((await endedAs(store, row.runId)) !== null) throw error;
    await store.commit({
      appends: [
        {
          runId: row.runId,
          expectedSeq: 'tail',
          events: [event('approval.refused', { approvalId: row.approvalId, by, reason })],
        },
      ],
    });
    throw error;
  };
  return {
    /** Pending and decided approvals; a shadow run's (actor `shadow:*`) never reach people. */
    list: async (query: ApprovalQuery = {}): Promise<ApprovalRow[]> =>
      (await store.approvals.list(query)).filter((r) => !isShadowActor(r.requestedBy)),

    async get(approvalId: string): Promise<ApprovalRow> {
      const row = await store.approvals.get(approvalId);
      if (!row) throw new NotFoundError(`approval ${approvalId} not found`);
      return row;
    },

    /**
     * Decide an approval. Refused (and journaled): a principal without the approver role, the
     * requesting actor itself, a second decision, an expired request, changed arguments.
     */
    async decide(approvalId: string, d: ApprovalDecision): Promise<ApprovalRow> {
      if (d.decision !== 'approved' && d.decision !== 'rejected')
        throw new UserError('decision must be approved or rejected', 'decision');
      const row = await this.get(approvalId);
      const by = d.approver.id;
      if (!d.approver.roles.includes('approver')) {
        return refuse(
          row,
          by,
          'principal lacks the approver role',
          new PermissionError(`${by} does not have the approver role`),
        );
      }
      if (by === row.requestedBy) {
        return refuse(
          row,
          by,
          'self-approval',
          new PermissionError('the requesting actor cannot decide its own approval'),
        );
      }
      if (row.status !== 'pending') {
        return refuse(
          row,
          by,
          `already ${row.status}`,
          new ConflictError('state', row.runId, `approval ${approvalId} is already ${row.status}`),
        );
      }
      if (d.argsDigest !== undefined && d.argsDigest !== row.argsDigest) {
        return refuse(
          row,
          by,
          'arguments differ from the request',
          new ConflictError('state', row.runId, `approval ${approvalId} was for different arguments`),
        );
      }
      if (store.now() >= row.expiresAt) {
        return refuse(
          row,
          by,
          'expired',
          new ConflictError('state', row.runId, `approval ${approvalId} has expired`),
        );
      }
      const ended = await endedAs(store, row.runId);
      if (ended !== null) {
        throw new JournalClosedError(
          row.runId,
          `approval ${approvalId} can no longer be decided: run ${row.runId} has ended (${ended})`,
        );
      }
      const now = store.now();
      const decided: ApprovalRow = {
        ...row,
        status: d.decision,
        approver: by,
        comment: d.comment ?? null,
        decidedAt: now,
      };
      const { after } = await appendFolded(store, row.runId, (state) => {
        const call = state.calls.find((c) => c.approvalId === approvalId && c.phase === 'awaiting-approval');
        if (!call) return null;
        return {
          events: [
            event('approval.decided', {
              approvalId,
              callId: row.callId,
              decision: d.decision,
              approver: by,
              ...(d.comment ? { comment: d.comment } : {}),
            }),
          ],
          // The decision wakes the run on any worker of its agent.
          parts: {
            approvals: [decided],
            upsertTasks: [
              { runId: row.runId, queue: engine.queueOf(state.agent, state.version), readyAt: now },
            ],
          },
        };
      });
      if (!after)
        throw new ConflictError(
          'state',
          row.runId,
          `approval ${approvalId} is no longer awaiting a decision`,
        );
      engine.forget(row.runId);
      return decided;
    },
  };
}

export function escalationsApi(engine: Engine, store: Store) {
  const requireOperator = (p: Actor): void => {
    if (!p.roles.some((r) => r === 'operator' || r === 'admin'))
      throw new PermissionError(`${p.id} needs the operator or admin role`);
  };
  return {
    /** The escalation inbox: escalated runs, newest first, never a shadow run's. */
    list: async (query: Omit<RunQuery, 'status'> = {}): Promise<RunRow[]> =>
      (await store.runs.list({ ...query, status: 'escalated' })).filter((r) => !isShadowActor(r.actorId)),

    /** Take an escalated run back: name the agent (required when the router escalated) and add a note. */
    async reopen(runId: string, o: { by: Actor; agent?: string; note?: string }): Promise<RunState> {
      requireOperator(o.by);
      if (o.agent !== undefined && !engine.agents.has(o.agent))
        throw new UserError(`agent: unknown agent "${o.agent}"`, 'agent');
      const { after } = await appendFolded(store, runId, (state) => {
        if (state.status !== 'escalated')
          throw new ConflictError('state', runId, `run ${runId} is ${state.status}, not escalated`);
        const agent = state.agent ?? o.agent;
        if (!agent) throw new UserError('agent is required to reopen a run the router escalated', 'agent');
        return {
          events: [
            event('run.reopened', {
              by: o.by.id,
              ...(o.agent && !state.agent ? { agent: o.agent } : {}),
              ...(o.note ? { note: o.note } : {}),
            }),
          ],
          parts: {
            upsertTasks: [{ runId, queue: engine.queueOf(agent, state.version), readyAt: store.now() }],
          },
        };
      });
      engine.forget(runId);
      return after as RunState;
    },

    /** Close an escalated run with the answer people gave. */
    async close(runId: string, o: { by: Actor; output: string }): Promise<RunState> {
      requireOperator(o.by);
      const { after } = await appendFolded(store, runId, (state) => {
        if (state.status !== 'escalated')
          throw new ConflictError('state', runId, `run ${runId} is ${state.status}, not escalated`);
        return {
          events: [
            event('run.completed', {
              output: o.output,
              totals: {
                steps: state.steps,
                modelCalls: state.modelCalls,
                toolCalls: state.toolCalls,
                inputTokens: state.inputTokens,
                outputTokens: state.outputTokens,
                costUsd: state.costUsd,
                durationMs: store.now() - state.createdAt,
              },
            }),
          ],
        };
      });
      engine.forget(runId);
      return after as RunState;
    },
  };
}

/**
 * Recompute a run's hash chain from the stored bytes with the store's audit keys and compare it
 * with the run's sealed head: names the first altered event, or reports the run truncated (events
 * cut from the end), deleted (a head without events) or headless.
 */
export async function verifyRun(
  store: Store,
  runId: string,
  options: { allowUnkeyed?: boolean } = {},
): Promise<ChainVerdict> {
  const [stored, head] = await Promise.all([store.journal.readStored(runId), store.journal.head(runId)]);
  if (stored.length === 0 && head === null) throw new NotFoundError(`run ${runId} not found`);
  return verifyChain(stored, { chain: store.chain, head, ...options });
}

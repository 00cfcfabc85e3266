/**
 * Erasure and export of an actor's data. `forget` deletes the actor's facts and redacts the
 * content of every run of the actor (requests, answers, tool arguments and results, progress
 * lines), keeping each event's structure and order, re-basing the hash chains, and journaling the
 * redaction itself. Other actors' runs are untouched and still verify.
 */
import { event, type JournalEvent } from '../core/events.ts';
import { foldRun, TERMINAL_STATUSES } from '../core/run-state.ts';
import type { ApprovalRow, Store } from '../store/ports.ts';
import { projectRun } from '../runtime/handle.ts';

export const REDACTED = '[redacted]';

/** The same event with its user content replaced. */
export function redactEvent(e: JournalEvent): JournalEvent {
  const r = structuredClone(e);
  switch (r.type) {
    case 'run.submitted':
      r.data.input = REDACTED;
      break;
    case 'model.responded':
      r.data.text = r.data.text ? REDACTED : '';
      r.data.toolCalls = r.data.toolCalls.map((c) => ({ ...c, input: REDACTED }));
      break;
    case 'tool.started':
      r.data.args = REDACTED;
      break;
    case 'tool.succeeded':
      r.data.result = REDACTED;
      break;
    case 'tool.failed':
      r.data.error = { ...r.data.error, message: REDACTED, details: {} };
      break;
    case 'tool.denied':
      r.data.message = REDACTED;
      break;
    case 'approval.requested':
      // The digest of low-entropy arguments (an order id) gives them back by trying candidates.
      r.data.args = REDACTED;
      r.data.argsDigest = REDACTED;
      r.data.reasons = r.data.reasons.map(() => REDACTED);
      break;
    case 'approval.decided':
      if (r.data.comment) r.data.comment = REDACTED;
      break;
    case 'delegation.requested':
      r.data.task = REDACTED;
      r.data.context = {};
      break;
    case 'delegation.completed':
      if (r.data.output !== undefined) r.data.output = REDACTED;
      break;
    case 'memory.loaded':
      if (r.data.context)
        r.data.context = { turns: [], workingState: { entities: [], lists: [] }, facts: [] };
      break;
    case 'progress':
      r.data.message = REDACTED;
      break;
    case 'run.completed':
      r.data.output = REDACTED;
      break;
    case 'run.resumed':
      if (r.data.result !== undefined) r.data.result = REDACTED;
      break;
    case 'run.escalated':
      r.data.summary = REDACTED;
      break;
    case 'run.reopened':
      if (r.data.note) r.data.note = REDACTED;
      break;
    default:
      break;
  }
  return r;
}

/**
 * An approval as erasure leaves it: the decision, who asked and who decided, and when, are kept
 * (the audit trail); the arguments, their digest, the reasons (which quote the arguments) and the
 * comment are removed.
 */
export function redactApproval(a: ApprovalRow): ApprovalRow {
  return {
    ...a,
    args: REDACTED,
    argsDigest: REDACTED,
    reasons: a.reasons.map(() => REDACTED),
    comment: a.comment ? REDACTED : null,
  };
}

export interface ForgetReport {
  actorId: string;
  facts: number;
  runs: number;
  events: number;
  approvals: number;
}

/** Every run id of an actor (children included), from the runs projection. */
async function runsOf(store: Store, actorId: string, sessionId?: string): Promise<string[]> {
  const rows = await store.runs.list({ actorId, ...(sessionId ? { sessionId } : {}), limit: 1_000_000 });
  return rows.map((r) => r.runId);
}

/**
 * Forget an actor (or one session of it): cancel nothing silently — active runs are refused —
 * delete facts, redact journals and the approvals and runs projections, then journal the redaction.
 */
export async function forgetActor(
  store: Store,
  actorId: string,
  options: { by: string; sessionId?: string; compact?: () => void },
): Promise<ForgetReport> {
  const ids = await runsOf(store, actorId, options.sessionId);
  const report: ForgetReport = { actorId, facts: 0, runs: 0, events: 0, approvals: 0 };
  for (const runId of ids) {
    const events = await store.journal.read(runId);
    const first = events[0];
    if (first?.type !== 'run.submitted' || first.data.actorId !== actorId) continue;
    const state = foldRun(events);
    if (!TERMINAL_STATUSES.has(state.status) && state.status !== 'needs_attention') {
      throw new Error(
        `run ${runId} of ${actorId} is still ${state.status}: cancel it before forgetting the actor`,
      );
    }
    const redacted = events.map(redactEvent);
    await store.journal.rewrite(runId, redacted);
    const marker = event('run.redacted', {
      by: options.by,
      reason: options.sessionId ? 'forget session' : 'forget actor',
      events: events.length,
    });
    const after = foldRun([...redacted, { runId, seq: events.length + 1, at: store.now(), v: 1, ...marker }]);
    const approvals = (await store.approvals.list({ runId, limit: 10_000 })).map(redactApproval);
    await store.commit({
      appends: [{ runId, expectedSeq: 'tail', events: [marker] }],
      projection: [{ ...projectRun(after), summary: null }],
      approvals,
      dropDedup: [runId],
    });
    report.runs++;
    report.events += events.length;
    report.approvals += approvals.length;
  }
  if (!options.sessionId) report.facts = await store.facts.deleteActor(actorId);
  // Which agent version each of the actor's sessions was given (store/deployment-port.ts).
  if (!options.sessionId) await store.deployments.forgetActor(actorId);
  // Deleted pages and the WAL still hold old bytes until the file is rewritten.
  options.compact?.();
  return report;
}

/** Everything stored about an actor, as JSON: runs with their journals, and facts. */
export async function exportActor(
  store: Store,
  actorId: string,
): Promise<{ actorId: string; runs: { runId: string; events: JournalEvent[] }[]; facts: unknown[] }> {
  const runs: { runId: string; events: JournalEvent[] }[] = [];
  for (const runId of await runsOf(store, actorId)) {
    const events = await store.journal.read(runId);
    if (events[0]?.type === 'run.submitted' && events[0].data.actorId === actorId)
      runs.push({ runId, events });
  }
  return { actorId, runs, facts: await store.facts.list(actorId, store.now()) };
}

/**
 * What erasure does to an actor's data, and its export: the redaction of each event and approval
 * (user content replaced, structure and order kept), and everything stored about an actor as JSON.
 * Forgetting an actor — redacting its runs' journals and journaling the redaction — is
 * runtime/erasure.ts's `forgetActor`, since it appends to runs.
 */
import type { JournalEvent } from '../core/events.ts';
import type { ApprovalRow, Store } from '../store/ports.ts';

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
export async function runsOf(store: Store, actorId: string, sessionId?: string): Promise<string[]> {
  const rows = await store.runs.list({ actorId, ...(sessionId ? { sessionId } : {}), limit: 1_000_000 });
  return rows.map((r) => r.runId);
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

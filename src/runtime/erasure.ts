/**
 * Forgetting an actor: deletes the actor's facts and redacts the content of every run of the actor
 * (requests, answers, tool arguments and results, progress lines), keeping each event's structure
 * and order, re-basing the hash chains, and journaling the redaction itself. Other actors' runs are
 * untouched and still verify. The redaction of one event or approval is memory/erasure.ts's.
 */
import { event } from '../core/events.ts';
import { foldRun, TERMINAL_STATUSES } from '../core/run-state.ts';
import { redactApproval, redactEvent, runsOf, type ForgetReport } from '../memory/erasure.ts';
import type { Store } from '../store/ports.ts';
import { appendFolded } from './append.ts';
import { projectRun } from './handle.ts';

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
    await store.journal.rewrite(runId, events.map(redactEvent));
    const marker = event('run.redacted', {
      by: options.by,
      reason: options.sessionId ? 'forget session' : 'forget actor',
      events: events.length,
    });
    const approvals = (await store.approvals.list({ runId, limit: 10_000 })).map(redactApproval);
    // The journal is closed; `run.redacted` is the one event it still takes.
    await appendFolded(store, runId, () => ({
      events: [marker],
      parts: { approvals, dropDedup: [runId] },
      project: (after) => ({ ...projectRun(after), summary: null }),
    }));
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

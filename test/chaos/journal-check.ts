/**
 * What the chaos drivers read from a run's journal: duplicate rows (a step recorded twice), gaps in
 * `seq`, and how often each recovery path ran.
 */
import type { JournalEvent } from '../../src/core/events.ts';

export interface JournalCounts {
  /** Steps recorded twice: see {@link duplicateRows}. */
  duplicateRows: number;
  seqGaps: number;
  /** `tool.started` re-runs of an idempotent call found in doubt. */
  inDoubtReruns: number;
  /** In-doubt calls `reconcile` found applied (`tool.succeeded` with `reconciled`). */
  reconciledApplied: number;
  /** In-doubt calls `reconcile` found not applied, then re-run. */
  reconciledNotApplied: number;
  /** `run.needs_attention`: in-doubt calls paused for a person. */
  needsAttention: number;
  /** `run.resumed` by resolution. */
  resolved: { succeeded: number; failed: number; retry: number };
  /** Outcomes per tool: `tool.succeeded` plus calls an operator resolved as succeeded. */
  succeededCalls: { callId: string; tool: string }[];
}

/** Count one run's journal. */
export function journalCounts(events: readonly JournalEvent[]): JournalCounts {
  const counts: JournalCounts = {
    duplicateRows: duplicateRows(events),
    seqGaps: events.filter((e, i) => e.seq !== i + 1).length,
    inDoubtReruns: 0,
    reconciledApplied: 0,
    reconciledNotApplied: 0,
    needsAttention: 0,
    resolved: { succeeded: 0, failed: 0, retry: 0 },
    succeededCalls: [],
  };
  const toolOf = new Map<string, string>();
  for (const e of events) {
    const d = e.data as {
      callId?: string;
      tool?: string;
      recovery?: string;
      reconciled?: boolean;
      resolution?: 'succeeded' | 'failed' | 'retry';
    };
    if (e.type === 'tool.started') {
      toolOf.set(d.callId ?? '', d.tool ?? '');
      if (d.recovery === 'in-doubt-rerun') counts.inDoubtReruns++;
      if (d.recovery === 'reconciled-not-applied') counts.reconciledNotApplied++;
    } else if (e.type === 'tool.succeeded') {
      if (d.reconciled) counts.reconciledApplied++;
      counts.succeededCalls.push({ callId: d.callId ?? '', tool: d.tool ?? '' });
    } else if (e.type === 'run.needs_attention') counts.needsAttention++;
    else if (e.type === 'run.resumed' && d.resolution) {
      counts.resolved[d.resolution]++;
      if (d.resolution === 'succeeded')
        counts.succeededCalls.push({ callId: d.callId ?? '', tool: toolOf.get(d.callId ?? '') ?? '' });
    }
  }
  return counts;
}

/**
 * Steps recorded twice, by (call, attempt): a second first start of one attempt (one that is not a
 * recovery re-run and follows no operator retry), a recovery re-run of a call that was not in
 * doubt (started, no outcome), a second outcome of one attempt; and a second submission, route,
 * agent start or end of the run.
 */
export function duplicateRows(events: readonly JournalEvent[]): number {
  const started = new Set<string>();
  const outcomes = new Set<string>();
  const inDoubt = new Set<string>();
  const retried = new Set<string>();
  const once = new Set<string>();
  let dups = 0;
  for (const e of events) {
    const d = e.data as { callId?: string; attempt?: number; recovery?: string; resolution?: string };
    const step = `${d.callId}:${d.attempt}`;
    if (e.type === 'tool.started') {
      if (d.recovery === undefined || d.recovery === 'operator-retry') {
        if (started.has(step) && !retried.has(d.callId ?? '')) dups++;
        retried.delete(d.callId ?? '');
      } else if (!inDoubt.has(step)) dups++;
      started.add(step);
      inDoubt.add(step);
    } else if (
      e.type === 'tool.failed' &&
      (e.data as { error?: { code?: string } }).error?.code === 'circuit_open'
    ) {
      // An open breaker's refusal: no attempt was made (none started), the attempt is retried later.
      continue;
    } else if (e.type === 'tool.succeeded' || e.type === 'tool.failed') {
      if (outcomes.has(step)) dups++;
      outcomes.add(step);
      inDoubt.delete(step);
    } else if (e.type === 'run.resumed') {
      for (const s of inDoubt) if (s.startsWith(`${d.callId}:`)) inDoubt.delete(s);
      if (d.resolution === 'retry') retried.add(d.callId ?? '');
    } else if (
      ['run.submitted', 'route.decided', 'agent.started', 'run.completed', 'run.failed'].includes(e.type)
    ) {
      if (once.has(e.type)) dups++;
      once.add(e.type);
    }
  }
  return dups;
}

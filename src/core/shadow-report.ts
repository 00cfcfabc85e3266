/**
 * The shadow report: what a shadow deployment's runs did next to the live runs they
 * mirror — tool sequences, the calls the live run never made (divergences), answers, approvals
 * and escalations. Pure: built from the two journals of each pair.
 */
import type { JournalEvent } from './events.ts';

/** A shadow run's progress line that says the call would have needed a person's approval. */
export const SHADOW_APPROVAL_PREFIX = 'shadow: would need approval';

export interface ShadowDivergentStep {
  /** The model step (1-based) whose call diverged. */
  step: number;
  tool: string;
  args: unknown;
  reason: string;
}

export interface ShadowRunReport {
  liveRunId: string;
  shadowRunId: string;
  /** The shadow run's status: completed, failed, escalated, or running. */
  status: string;
  liveTools: string[];
  shadowTools: string[];
  divergentSteps: ShadowDivergentStep[];
  liveAnswer: string | null;
  shadowAnswer: string | null;
  answersEqual: boolean;
  liveApprovals: number;
  shadowApprovalsNeeded: number;
  liveEscalated: boolean;
  shadowEscalated: boolean;
}

export interface ShadowReport {
  runs: number;
  /** Runs with at least one divergent step. */
  divergent: number;
  /** Runs whose answers differ. */
  answersDiffer: number;
  runsReport: ShadowRunReport[];
}

const STATUS_OF: Readonly<Record<string, string>> = {
  'run.completed': 'completed',
  'run.failed': 'failed',
  'run.escalated': 'escalated',
  'run.cancelled': 'cancelled',
};

/** The tools the model called, in order (every call, whatever became of it). */
function toolsOf(events: readonly JournalEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'model.responded' ? e.data.toolCalls.map((t) => t.toolName) : []));
}

function answerOf(events: readonly JournalEvent[]): string | null {
  const done = events.find((e) => e.type === 'run.completed');
  return done?.type === 'run.completed' ? done.data.output : null;
}

function statusOf(events: readonly JournalEvent[]): string {
  let status = 'running';
  for (const e of events) status = STATUS_OF[e.type] ?? status;
  return status;
}

/** Every shadow call denied as divergent, with the step and the arguments the model gave. */
function divergentStepsOf(events: readonly JournalEvent[]): ShadowDivergentStep[] {
  const out: ShadowDivergentStep[] = [];
  const args = new Map<string, unknown>();
  let step = 0;
  for (const e of events) {
    if (e.type === 'model.responded') {
      step++;
      for (const t of e.data.toolCalls) args.set(t.callId, t.input);
    }
    if (e.type === 'tool.denied' && e.data.reason === 'shadow-divergent')
      out.push({ step, tool: e.data.tool, args: args.get(e.data.callId) ?? null, reason: e.data.message });
  }
  return out;
}

/** One pair's line of the report. */
export function shadowRunReport(
  live: readonly JournalEvent[],
  shadow: readonly JournalEvent[],
): ShadowRunReport {
  const liveAnswer = answerOf(live);
  const shadowTools = toolsOf(shadow);
  const shadowAnswer = answerOf(shadow);
  return {
    liveRunId: live[0]?.runId ?? '',
    shadowRunId: shadow[0]?.runId ?? '',
    status: statusOf(shadow),
    liveTools: toolsOf(live),
    shadowTools,
    divergentSteps: divergentStepsOf(shadow),
    liveAnswer,
    shadowAnswer,
    answersEqual: liveAnswer === shadowAnswer,
    liveApprovals: live.filter((e) => e.type === 'approval.requested').length,
    shadowApprovalsNeeded: shadow.filter(
      (e) => e.type === 'progress' && e.data.message.startsWith(SHADOW_APPROVAL_PREFIX),
    ).length,
    liveEscalated: live.some((e) => e.type === 'run.escalated'),
    shadowEscalated:
      shadowTools.includes('escalate_to_human') || shadow.some((e) => e.type === 'run.escalated'),
  };
}

/** The report over every (live, shadow) pair of a deployment. */
export function shadowReport(
  pairs: readonly { live: JournalEvent[]; shadow: JournalEvent[] }[],
): ShadowReport {
  const runsReport = pairs.map((p) => shadowRunReport(p.live, p.shadow));
  return {
    runs: runsReport.length,
    divergent: runsReport.filter((r) => r.divergentSteps.length > 0).length,
    answersDiffer: runsReport.filter((r) => !r.answersEqual).length,
    runsReport,
  };
}

/**
 * The shadow report (issue 18): for each pair of a live run and its shadow run, what each did —
 * tool sequences, the shadow's divergent calls (not executed), answers, approvals and escalations.
 * Pure: the journals are passed in. `runtime/shadow.ts` `shadowReportOf(store, deploymentId)` reads
 * them for DeploymentsApi (DeploymentView.shadow).
 */
import type { JournalEvent } from './events.ts';
import { ESCALATE_TOOL } from './agent.ts';

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
  /** The shadow run's status: completed, failed, escalated, or still running. */
  status: string;
  liveTools: string[];
  shadowTools: string[];
  divergentSteps: ShadowDivergentStep[];
  liveAnswer: string | null;
  shadowAnswer: string | null;
  answersEqual: boolean;
  /** Tools the live run asked a person to approve. */
  liveApprovals: string[];
  /** Shadow calls served from live calls that needed approval: what the shadow would have needed. */
  shadowApprovalsNeeded: string[];
  liveEscalated: boolean;
  shadowEscalated: boolean;
}

export interface ShadowReport {
  runs: number;
  /** Runs with at least one divergent step. */
  divergent: number;
  answersDiffer: number;
  runsReport: ShadowRunReport[];
}

interface Summary {
  runId: string;
  status: string;
  tools: string[];
  answer: string | null;
  approvals: string[];
  escalated: boolean;
  /** callId → [step, tool, args] of every model-emitted call. */
  calls: Map<string, { step: number; tool: string; args: unknown }>;
}

/** One journal read once: what the run called, answered, needed approved, and how it ended. */
function summarize(events: readonly JournalEvent[]): Summary {
  const s: Summary = {
    runId: events[0]?.runId ?? '',
    status: 'running',
    tools: [],
    answer: null,
    approvals: [],
    escalated: false,
    calls: new Map(),
  };
  let step = 0;
  for (const e of events) {
    switch (e.type) {
      case 'model.responded':
        step += 1;
        for (const c of e.data.toolCalls) {
          s.calls.set(c.callId, { step, tool: c.toolName, args: c.input });
          s.tools.push(c.toolName);
          if (c.toolName === ESCALATE_TOOL) s.escalated = true;
        }
        break;
      case 'approval.requested':
        s.approvals.push(e.data.tool);
        break;
      case 'run.escalated':
      case 'route.escalated':
        s.escalated = true;
        s.status = 'escalated';
        break;
      case 'run.completed':
        s.answer = e.data.output;
        s.status = 'completed';
        break;
      case 'run.failed':
        s.status = 'failed';
        break;
      case 'run.cancelled':
        s.status = 'cancelled';
        break;
      default:
        break;
    }
  }
  return s;
}

/** Compare one live run with its shadow run. */
export function shadowRunReport(
  live: readonly JournalEvent[],
  shadow: readonly JournalEvent[],
): ShadowRunReport {
  const l = summarize(live);
  const sh = summarize(shadow);
  const divergentSteps: ShadowDivergentStep[] = [];
  const served: string[] = [];
  for (const e of shadow) {
    if (e.type === 'tool.denied' && e.data.reason === 'shadow-divergent') {
      const c = sh.calls.get(e.data.callId);
      divergentSteps.push({
        step: c?.step ?? 0,
        tool: e.data.tool,
        args: c?.args ?? null,
        reason: e.data.message,
      });
    }
    if (e.type === 'tool.succeeded') served.push(e.data.tool);
  }
  const pending = [...l.approvals];
  const shadowApprovalsNeeded: string[] = [];
  for (const tool of served) {
    const i = pending.indexOf(tool);
    if (i < 0) continue;
    pending.splice(i, 1);
    shadowApprovalsNeeded.push(tool);
  }
  return {
    liveRunId: l.runId,
    shadowRunId: sh.runId,
    status: sh.status,
    liveTools: l.tools,
    shadowTools: sh.tools,
    divergentSteps,
    liveAnswer: l.answer,
    shadowAnswer: sh.answer,
    answersEqual: l.answer === sh.answer,
    liveApprovals: l.approvals,
    shadowApprovalsNeeded,
    liveEscalated: l.escalated,
    shadowEscalated: sh.escalated,
  };
}

/** The report over every (live, shadow) pair of a shadow deployment. */
export function shadowReport(
  pairs: readonly { live: readonly JournalEvent[]; shadow: readonly JournalEvent[] }[],
): ShadowReport {
  const runsReport = pairs.map((p) => shadowRunReport(p.live, p.shadow));
  return {
    runs: runsReport.length,
    divergent: runsReport.filter((r) => r.divergentSteps.length > 0).length,
    answersDiffer: runsReport.filter((r) => !r.answersEqual).length,
    runsReport,
  };
}

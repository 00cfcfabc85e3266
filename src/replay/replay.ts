/**
 * Replay: re-execute a recorded run with the engine's own decisions — `decide` over the fold of its
 * journal, and the route, tools shown, call admission and output parsing of core/decisions, the
 * very functions the engine calls — serving model and tool outputs from the recording (no model
 * call, no tool effect), and check at every step that the code would take the step the journal
 * recorded: the same route, the same tools shown, the same prompt shape, the same call outcomes
 * (ownership, shown tools, arguments, policies, approvals, delegation limits), the same end.
 *
 * With changed agents (`live`), agents whose version differs from the recording are asked again
 * (their model sees the rebuilt prompt), and the replay stops at the first divergence: which agent,
 * which tool, which arguments.
 */
import type { AgentRouter, ToolRetriever } from '../core/routing-port.ts';
import type { PolicyRule } from '../core/policy.ts';
import type { AgentRuntime } from '../runtime/agents.ts';
import { replayTree } from './replayer.ts';
import type { Divergence, JournalSource, ReplayConfig, RunReplay } from './types.ts';

export { canonical } from '../core/decisions/output.ts';

export type { Divergence, DivergenceKind, JournalSource, ReplayConfig, RunReplay } from './types.ts';

/** The replay configuration of a running system: its agents, router, retrievers and policies. */
export function replayConfigOf(system: {
  agents: ReadonlyMap<string, AgentRuntime>;
  /** The system's governance rules; without them, policies are not re-evaluated. */
  policies?: readonly PolicyRule[];
  routing: {
    router?: AgentRouter;
    retrievers?: ReadonlyMap<string, ToolRetriever>;
    defaultAgent?: string;
  };
}): ReplayConfig {
  return {
    agents: system.agents,
    router: system.routing.router,
    retrievers: system.routing.retrievers,
    defaultAgent: system.routing.defaultAgent,
    ...(system.policies ? { policies: system.policies } : {}),
  };
}

/**
 * Replay one run and, recursively, the runs it delegated to.
 * @example
 * const report = await replayRun((id) => store.journal.read(id), runId, replayConfigOf(system));
 * if (report.divergence) console.log(formatReplay(report));
 */
export function replayRun(source: JournalSource, runId: string, config: ReplayConfig): Promise<RunReplay> {
  return replayTree(source, runId, config);
}

/** The first divergence in a replay tree (depth-first, in the order runs were delegated). */
export function firstDivergence(r: RunReplay): Divergence | null {
  if (r.divergence) return r.divergence;
  for (const c of r.children) {
    const d = firstDivergence(c);
    if (d) return d;
  }
  return null;
}

/** Totals over a replay tree. */
export function replayTotals(r: RunReplay): {
  runs: number;
  divergences: number;
  modelCallsMade: number;
  modelOutputsServed: number;
  toolOutputsServed: number;
  decisions: number;
} {
  const t = {
    runs: 1,
    divergences: r.divergence ? 1 : 0,
    modelCallsMade: r.modelCallsMade,
    modelOutputsServed: r.modelOutputsServed,
    toolOutputsServed: r.toolOutputsServed,
    decisions: r.decisions,
  };
  for (const c of r.children) {
    const ct = replayTotals(c);
    t.runs += ct.runs;
    t.divergences += ct.divergences;
    t.modelCallsMade += ct.modelCallsMade;
    t.modelOutputsServed += ct.modelOutputsServed;
    t.toolOutputsServed += ct.toolOutputsServed;
    t.decisions += ct.decisions;
  }
  return t;
}

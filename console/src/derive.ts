/**
 * Views derived from journals in the browser, with the same functions the CLI and the gateway use
 * (src/telemetry is pure over events), for gateways that do not serve them yet.
 */
import { graphOf, type OrchestrationGraph } from '../../src/telemetry/graph.ts';
import { DEFAULT_PRICES, runUsage } from '../../src/telemetry/cost.ts';
import { ApiError, type Api, type JournalEvent } from './api.ts';

export type { OrchestrationGraph };
export type { GraphNode, GraphEdge } from '../../src/telemetry/graph.ts';

/** A run's orchestration graph: the gateway's when it serves one, else built here from the journals. */
export async function loadRunGraph(
  api: Api,
  runId: string,
  events: readonly JournalEvent[],
): Promise<OrchestrationGraph> {
  try {
    return await api.get<OrchestrationGraph>(`/v1/runs/${encodeURIComponent(runId)}/graph`);
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 501)) throw error;
  }
  const journals = new Map<string, JournalEvent[]>([[runId, [...events]]]);
  const visit = async (list: readonly JournalEvent[]): Promise<void> => {
    for (const e of list) {
      if (e.type !== 'delegation.requested' || journals.has(e.data.childRunId)) continue;
      const child = await api.get<JournalEvent[]>(`/v1/runs/${encodeURIComponent(e.data.childRunId)}/events`);
      journals.set(e.data.childRunId, child);
      await visit(child);
    }
  };
  await visit(events);
  return graphOf(journals, DEFAULT_PRICES);
}

export interface UsageRow {
  key: string;
  runs: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Usage by a dimension from journals (the caller's own runs, when the gateway has no /v1/usage). */
export function usageOf(
  journals: readonly (readonly JournalEvent[])[],
  by: 'agent' | 'actor' | 'model',
  sinceMs: number,
): UsageRow[] {
  const rows = new Map<string, UsageRow & { ids: Set<string> }>();
  for (const events of journals) {
    const first = events[0];
    const actor = first?.type === 'run.submitted' ? first.data.actorId : '(unknown)';
    let agent = '(unrouted)';
    for (const e of events) {
      if (e.type === 'route.decided' || e.type === 'agent.started') agent = e.data.agent;
      if (e.type !== 'model.responded' || e.at < sinceMs) continue;
      const key = by === 'agent' ? agent : by === 'actor' ? actor : e.data.modelId;
      let row = rows.get(key);
      if (!row) {
        row = { key, runs: 0, modelCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, ids: new Set() };
        rows.set(key, row);
      }
      const u = runUsage([e], DEFAULT_PRICES);
      row.ids.add(e.runId);
      row.modelCalls += u.modelCalls;
      row.inputTokens += u.inputTokens;
      row.outputTokens += u.outputTokens;
      row.costUsd += u.costUsd;
    }
  }
  return [...rows.values()]
    .map(({ ids, ...r }) => ({ ...r, runs: ids.size }))
    .sort((a, b) => b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens));
}

/** The events a graph node stands for (clicking a node filters the timeline to them). */
export function eventsOfNode(nodeId: string, events: readonly JournalEvent[]): Set<number> {
  const out = new Set<number>();
  let agent: string | undefined;
  const [kind, ...rest] = nodeId.split(':');
  const label = rest.join(':');
  for (const e of events) {
    if (e.type === 'route.decided' || e.type === 'agent.started') agent = e.data.agent;
    const hit =
      (kind === 'router' && (e.type === 'route.decided' || e.type === 'route.escalated')) ||
      (kind === 'agent' &&
        ((agent === label &&
          (e.type === 'route.decided' ||
            e.type === 'agent.started' ||
            e.type === 'memory.loaded' ||
            e.type === 'tools.retrieved' ||
            e.type.startsWith('model.'))) ||
          (e.type === 'delegation.requested' && e.data.agent === label))) ||
      (kind === 'tool' && 'tool' in e.data && e.data.tool === label) ||
      (kind === 'human' &&
        label === 'approver' &&
        (e.type === 'approval.requested' || e.type === 'approval.decided')) ||
      (kind === 'human' &&
        label === 'escalation' &&
        (e.type === 'route.escalated' || e.type === 'run.escalated'));
    if (hit) out.add(e.seq);
  }
  return out;
}

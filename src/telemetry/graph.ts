/**
 * The orchestration graph: who handed work to whom, and what it cost. Nodes are the router, agents,
 * tools and humans (approvers, escalations); edges are routing, delegation, tool calls and approval
 * requests, each with counts, latency, tokens, retries, denials and failures. Built for one run
 * (with its delegation tree) or aggregated over every run in a window; rendered as JSON or mermaid.
 */
import type { JournalEvent } from '../core/events.ts';
import type { Store } from '../store/ports.ts';
import { costOf, type PriceTable } from './cost.ts';
import { scanRuns } from './scan.ts';

export type NodeKind = 'router' | 'agent' | 'tool' | 'human';
export type EdgeKind = 'route' | 'escalate' | 'delegate' | 'call' | 'approval';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  runs: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  count: number;
  latencyMs: { total: number; avg: number; max: number };
  /** Tokens spent by the target side of the edge (a delegated run's model calls). */
  tokens: number;
  attempts: number;
  retries: number;
  denials: number;
  failures: number;
}

export interface OrchestrationGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  runs: number;
}

class GraphBuilder {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, GraphEdge>();
  runs = 0;
  readonly prices: PriceTable | undefined;
  constructor(prices: PriceTable | undefined) {
    this.prices = prices;
  }

  node(kind: NodeKind, label: string): GraphNode {
    const id = kind === 'router' ? 'router' : `${kind}:${label}`;
    let n = this.nodes.get(id);
    if (!n) {
      n = { id, kind, label, runs: 0, modelCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
      this.nodes.set(id, n);
    }
    return n;
  }

  edge(from: GraphNode, to: GraphNode, kind: EdgeKind): GraphEdge {
    const key = `${from.id}->${to.id}:${kind}`;
    let e = this.edges.get(key);
    if (!e) {
      e = {
        from: from.id,
        to: to.id,
        kind,
        count: 0,
        latencyMs: { total: 0, avg: 0, max: 0 },
        tokens: 0,
        attempts: 0,
        retries: 0,
        denials: 0,
        failures: 0,
      };
      this.edges.set(key, e);
    }
    return e;
  }

  latency(e: GraphEdge, ms: number): void {
    e.latencyMs.total += ms;
    e.latencyMs.max = Math.max(e.latencyMs.max, ms);
  }

  /** Add one run's journal; `childTokens` resolves a delegated run's total tokens when known. */
  add(events: readonly JournalEvent[], childTokens: (runId: string) => number): void {
    const first = events[0];
    if (first?.type !== 'run.submitted') return;
    this.runs += 1;
    let agent: GraphNode | undefined;
    const callStart = new Map<string, number>();
    const callEdge = new Map<string, GraphEdge>();
    const approvalAt = new Map<string, number>();
    for (const e of events) {
      switch (e.type) {
        case 'route.decided':
          agent = this.node('agent', e.data.agent);
          agent.runs += 1;
          // A delegated run's arrival is drawn as the delegation edge, not a routing edge.
          if (e.data.method !== 'delegation') {
            const edge = this.edge(this.node('router', 'router'), agent, 'route');
            edge.count += 1;
            this.latency(edge, e.at - first.at);
          }
          break;
        case 'route.escalated': {
          const edge = this.edge(this.node('router', 'router'), this.node('human', 'escalation'), 'escalate');
          edge.count += 1;
          this.latency(edge, e.at - first.at);
          break;
        }
        case 'model.responded':
          if (agent) {
            agent.modelCalls += 1;
            agent.inputTokens += e.data.usage.inputTokens;
            agent.outputTokens += e.data.usage.outputTokens;
            if (this.prices) agent.costUsd += costOf(this.prices, e.data.modelId, e.data.usage);
          }
          break;
        case 'tool.started': {
          if (!agent) break;
          const edge = this.edge(agent, this.node('tool', e.data.tool), 'call');
          if (!callEdge.has(e.data.callId)) {
            edge.count += 1;
            callStart.set(e.data.callId, e.at);
            callEdge.set(e.data.callId, edge);
          }
          edge.attempts += 1;
          break;
        }
        case 'tool.succeeded':
        case 'tool.failed': {
          const edge = callEdge.get(e.data.callId);
          if (!edge) break;
          if (e.type === 'tool.failed') {
            if (e.data.nextAttemptAt !== undefined) edge.retries += 1;
            else edge.failures += 1;
            if (e.data.nextAttemptAt !== undefined) break;
          }
          this.latency(edge, e.at - (callStart.get(e.data.callId) ?? e.at));
          break;
        }
        case 'tool.denied': {
          if (!agent) break;
          const edge =
            callEdge.get(e.data.callId) ?? this.edge(agent, this.node('tool', e.data.tool), 'call');
          if (!callEdge.has(e.data.callId)) edge.count += 1;
          edge.denials += 1;
          break;
        }
        case 'approval.requested': {
          const edge = this.edge(this.node('tool', e.data.tool), this.node('human', 'approver'), 'approval');
          edge.count += 1;
          approvalAt.set(e.data.approvalId, e.at);
          callEdge.set(`approval:${e.data.approvalId}`, edge);
          break;
        }
        case 'approval.decided': {
          const edge = callEdge.get(`approval:${e.data.approvalId}`);
          if (!edge) break;
          this.latency(edge, e.at - (approvalAt.get(e.data.approvalId) ?? e.at));
          if (e.data.decision !== 'approved') edge.denials += 1;
          break;
        }
        case 'delegation.requested': {
          if (!agent) break;
          const edge = this.edge(agent, this.node('agent', e.data.agent), 'delegate');
          edge.count += 1;
          callStart.set(e.data.callId, e.at);
          callEdge.set(e.data.callId, edge);
          break;
        }
        case 'delegation.completed': {
          const edge = callEdge.get(e.data.callId);
          if (!edge) break;
          this.latency(edge, e.at - (callStart.get(e.data.callId) ?? e.at));
          edge.tokens += childTokens(e.data.childRunId);
          if (e.data.status !== 'completed') edge.failures += 1;
          break;
        }
        default:
          break;
      }
    }
  }

  build(): OrchestrationGraph {
    const edges = [...this.edges.values()].map((e) => ({
      ...e,
      latencyMs: { ...e.latencyMs, avg: e.count ? Math.round((e.latencyMs.total / e.count) * 100) / 100 : 0 },
    }));
    return { nodes: [...this.nodes.values()], edges, runs: this.runs };
  }
}

const tokensOf = (events: readonly JournalEvent[]): number =>
  events.reduce(
    (n, e) => (e.type === 'model.responded' ? n + e.data.usage.inputTokens + e.data.usage.outputTokens : n),
    0,
  );

/** Build a graph from journals (runId → events); delegated runs present in the map are included. */
export function graphOf(
  journals: ReadonlyMap<string, readonly JournalEvent[]>,
  prices?: PriceTable,
): OrchestrationGraph {
  const b = new GraphBuilder(prices);
  const totals = new Map<string, number>();
  const total = (runId: string): number => {
    const known = totals.get(runId);
    if (known !== undefined) return known;
    const events = journals.get(runId) ?? [];
    let n = tokensOf(events);
    for (const e of events) if (e.type === 'delegation.requested') n += total(e.data.childRunId);
    totals.set(runId, n);
    return n;
  };
  for (const events of journals.values()) b.add(events, total);
  return b.build();
}

/** The journals of a run and every run it delegated to. */
export async function runTree(store: Store, runId: string): Promise<Map<string, JournalEvent[]>> {
  const out = new Map<string, JournalEvent[]>();
  const visit = async (id: string): Promise<void> => {
    if (out.has(id)) return;
    const events = await store.journal.read(id);
    out.set(id, events);
    for (const e of events) if (e.type === 'delegation.requested') await visit(e.data.childRunId);
  };
  await visit(runId);
  return out;
}

/** The graph of one run with its delegation tree. */
export async function runGraph(
  store: Store,
  runId: string,
  prices?: PriceTable,
): Promise<OrchestrationGraph> {
  return graphOf(await runTree(store, runId), prices);
}

/** The graph of every run active at or after `sinceMs`. */
export async function windowGraph(
  store: Store,
  options: { sinceMs: number; prices?: PriceTable; maxRuns?: number },
): Promise<OrchestrationGraph> {
  const journals = new Map<string, JournalEvent[]>();
  for (const { row, events } of await scanRuns(store, options)) journals.set(row.runId, events);
  return graphOf(journals, options.prices);
}

const mermaidId = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, '_');
const esc = (s: string): string => s.replace(/"/g, '#quot;');

/** A mermaid flowchart of the graph. */
export function toMermaid(g: OrchestrationGraph): string {
  const lines = ['flowchart LR'];
  for (const n of g.nodes) {
    const id = mermaidId(n.id);
    if (n.kind === 'router') lines.push(`  ${id}{{"router"}}`);
    else if (n.kind === 'agent') {
      const tokens = n.inputTokens + n.outputTokens;
      lines.push(
        `  ${id}["${esc(n.label)}<br/>${n.runs} runs, ${tokens} tokens${n.costUsd ? `, $${n.costUsd.toFixed(4)}` : ''}"]`,
      );
    } else if (n.kind === 'tool') lines.push(`  ${id}(["${esc(n.label)}"])`);
    else lines.push(`  ${id}[/"${esc(n.label)}"\\]`);
  }
  for (const e of g.edges) {
    const parts = [`${e.kind} ×${e.count}`, `avg ${Math.round(e.latencyMs.avg)} ms`];
    if (e.tokens) parts.push(`${e.tokens} tok`);
    if (e.retries) parts.push(`${e.retries} retries`);
    if (e.denials) parts.push(`${e.denials} denied`);
    if (e.failures) parts.push(`${e.failures} failed`);
    const arrow =
      e.kind === 'delegate' ? '==>' : e.kind === 'approval' || e.kind === 'escalate' ? '-.->' : '-->';
    lines.push(`  ${mermaidId(e.from)} ${arrow}|"${esc(parts.join(', '))}"| ${mermaidId(e.to)}`);
  }
  return lines.join('\n');
}

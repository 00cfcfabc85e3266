/**
 * The orchestration graph as SVG, laid out in layers: router → agents (by delegation depth) → tools
 * → humans. Small enough to need no layout engine; every node is a keyboard-focusable button.
 */
import type { KeyboardEvent } from 'react';
import type { GraphEdge, GraphNode, OrchestrationGraph } from './derive.ts';
import { fmt } from './api.ts';

const W = 176;
const H = 56;
const GAP_X = 84;
const GAP_Y = 22;
const PAD = 16;

interface Placed extends GraphNode {
  x: number;
  y: number;
}

/** Columns: router 0, agents by their depth from the router, tools after the deepest agent, humans last. */
function layout(g: OrchestrationGraph): { nodes: Placed[]; width: number; height: number } {
  const depth = new Map<string, number>();
  for (const n of g.nodes) if (n.kind === 'router') depth.set(n.id, 0);
  const agents = g.nodes.filter((n) => n.kind === 'agent');
  for (const a of agents) if (g.edges.some((e) => e.to === a.id && e.kind === 'route')) depth.set(a.id, 1);
  // Delegation chains are short (depth ≤ budget), so relaxing a few times settles every agent.
  for (let i = 0; i < agents.length + 1; i++) {
    for (const e of g.edges) {
      if (e.kind !== 'delegate') continue;
      const d = (depth.get(e.from) ?? 1) + 1;
      if (!depth.has(e.to) || depth.get(e.to)! < d) depth.set(e.to, d);
    }
  }
  for (const a of agents) if (!depth.has(a.id)) depth.set(a.id, 1);
  const agentCols = Math.max(1, ...agents.map((a) => depth.get(a.id) ?? 1));
  const toolCol = agentCols + 1;
  const columns = new Map<number, GraphNode[]>();
  for (const n of g.nodes) {
    const col =
      n.kind === 'router'
        ? 0
        : n.kind === 'agent'
          ? (depth.get(n.id) ?? 1)
          : n.kind === 'tool'
            ? toolCol
            : toolCol + 1;
    columns.set(col, [...(columns.get(col) ?? []), n]);
  }
  const tallest = Math.max(1, ...[...columns.values()].map((c) => c.length));
  const height = PAD * 2 + tallest * H + (tallest - 1) * GAP_Y;
  const placed: Placed[] = [];
  const maxCol = Math.max(0, ...columns.keys());
  for (const [col, list] of columns) {
    const colHeight = list.length * H + (list.length - 1) * GAP_Y;
    list.forEach((n, i) =>
      placed.push({
        ...n,
        x: PAD + col * (W + GAP_X),
        y: (height - colHeight) / 2 + i * (H + GAP_Y),
      }),
    );
  }
  return { nodes: placed, width: PAD * 2 + (maxCol + 1) * W + maxCol * GAP_X, height };
}

const edgeLabel = (e: GraphEdge): string => {
  const parts = [`${e.kind} ×${e.count}`];
  if (e.latencyMs.avg) parts.push(fmt.ms(e.latencyMs.avg));
  if (e.retries) parts.push(`${e.retries} retry`);
  if (e.denials) parts.push(`${e.denials} denied`);
  if (e.failures) parts.push(`${e.failures} failed`);
  return parts.join(' · ');
};

const nodeDetail = (n: GraphNode): string => {
  if (n.kind === 'agent') {
    const tokens = n.inputTokens + n.outputTokens;
    return `${n.modelCalls} model calls · ${fmt.int(tokens)} tok`;
  }
  return n.kind;
};

export function Graph(props: {
  graph: OrchestrationGraph;
  selected?: string | null;
  onSelect?: (nodeId: string | null) => void;
  label: string;
}) {
  const { nodes, width, height } = layout(props.graph);
  const at = new Map(nodes.map((n) => [n.id, n]));
  const select = (id: string): void => props.onSelect?.(props.selected === id ? null : id);
  const onKey = (id: string) => (ev: KeyboardEvent) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      select(id);
    }
  };
  if (nodes.length === 0) return <p className="muted">No graph yet: the run has not been routed.</p>;
  return (
    <div className="graph-scroll">
      <svg
        className="graph"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="group"
        aria-label={props.label}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#56606e" />
          </marker>
        </defs>
        {props.graph.edges.map((e) => {
          const a = at.get(e.from);
          const b = at.get(e.to);
          if (!a || !b) return null;
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          const back = x2 <= x1;
          const mx = (x1 + x2) / 2;
          const d = back
            ? `M${a.x + W / 2},${a.y + H} C${a.x + W / 2},${a.y + H + 40} ${b.x + W / 2},${b.y + H + 40} ${b.x + W / 2},${b.y + H}`
            : `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
          return (
            <g key={`${e.from}->${e.to}:${e.kind}`} className={`edge edge-${e.kind}`}>
              <path d={d} markerEnd="url(#arrow)" />
              <text x={back ? (a.x + b.x) / 2 + W / 2 : mx} y={(y1 + y2) / 2 - 6} textAnchor="middle">
                {edgeLabel(e)}
              </text>
            </g>
          );
        })}
        {nodes.map((n) => (
          <g
            key={n.id}
            className={`node node-${n.kind}${props.selected === n.id ? ' selected' : ''}`}
            data-node-id={n.id}
            transform={`translate(${n.x},${n.y})`}
            role="button"
            tabIndex={0}
            aria-pressed={props.selected === n.id}
            aria-label={`${n.kind} ${n.label}: ${nodeDetail(n)}. Show its events.`}
            onClick={() => select(n.id)}
            onKeyDown={onKey(n.id)}
          >
            <rect width={W} height={H} rx={n.kind === 'tool' ? 28 : 8} />
            <text x={W / 2} y={23} textAnchor="middle" className="node-label">
              {n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label}
            </text>
            <text x={W / 2} y={42} textAnchor="middle" className="node-detail">
              {nodeDetail(n)}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

/**
 * The observability CLI commands as functions of parsed options, returning the text to print (the
 * commander wrappers in src/cli stay thin): `trace --graph`, `agents`, `usage`.
 */
import { NotFoundError } from '../core/errors.ts';
import type { Store } from '../store/ports.ts';
import { treeUsage, usageReport, type PriceTable, type UsageDimension } from './cost.ts';
import { runGraph, toMermaid, windowGraph } from './graph.ts';
import { agentHealth } from './health.ts';
import { parseDuration } from './scan.ts';

/**
 * `switchboard trace <runId> --graph mermaid|json` (or the window graph with `--since`). An unknown
 * run is a {@link NotFoundError}, never an empty flowchart.
 */
export async function traceGraphCommand(
  store: Store,
  options: { runId?: string; graph: 'mermaid' | 'json'; since?: string; prices?: PriceTable; now?: number },
): Promise<string> {
  if (options.runId && (await store.journal.read(options.runId)).length === 0) {
    throw new NotFoundError(`run ${options.runId} not found`);
  }
  const g = options.runId
    ? await runGraph(store, options.runId, options.prices)
    : await windowGraph(store, {
        sinceMs: (options.now ?? store.now()) - parseDuration(options.since ?? '24h'),
        ...(options.prices ? { prices: options.prices } : {}),
      });
  return options.graph === 'json' ? JSON.stringify(g, null, 2) : toMermaid(g);
}

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | null): string => (x === null ? '-' : `${Math.round(x)}ms`);

/** `switchboard agents [--window 15m] [--json]`: health per agent. */
export async function agentsCommand(
  store: Store,
  options: { agents: readonly string[]; window?: string; json?: boolean; now?: number },
): Promise<string> {
  const health = await agentHealth(store, {
    agents: options.agents,
    windowMs: parseDuration(options.window ?? '15m'),
    now: options.now ?? store.now(),
  });
  if (options.json) return JSON.stringify(health, null, 2);
  const rows = [
    ['agent', 'status', 'runs', 'success', 'p50', 'p95', 'retries', 'denials', 'queue', 'reason'],
    ...health.map((h) => [
      h.agent,
      h.status,
      String(h.runs.finished),
      pct(h.successRate),
      ms(h.latencyMs.p50),
      ms(h.latencyMs.p95),
      pct(h.retryRate),
      pct(h.denialRate),
      String(h.queueDepth),
      h.reasons.join('; ') || '-',
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `switchboard usage --by agent|actor|model --since 24h [--run <id>] [--json]`. */
export async function usageCommand(
  store: Store,
  options: {
    by: UsageDimension;
    since?: string;
    runId?: string;
    json?: boolean;
    prices: PriceTable;
    now?: number;
  },
): Promise<string> {
  if (options.runId) {
    const tree = await treeUsage(store, options.runId, options.prices);
    if (options.json) return JSON.stringify(tree, null, 2);
    const lines: string[] = [];
    const walk = (t: typeof tree, indent: string): void => {
      lines.push(
        `${indent}${t.runId} (${t.agent ?? '-'}): self ${t.self.inputTokens}+${t.self.outputTokens} tokens $${t.self.costUsd.toFixed(6)}; tree ${t.total.inputTokens}+${t.total.outputTokens} tokens $${t.total.costUsd.toFixed(6)}`,
      );
      for (const c of t.children) walk(c, `${indent}  └ `);
    };
    walk(tree, '');
    return lines.join('\n');
  }
  const rows = await usageReport(store, {
    by: options.by,
    sinceMs: (options.now ?? store.now()) - parseDuration(options.since ?? '24h'),
    prices: options.prices,
  });
  if (options.json) return JSON.stringify(rows, null, 2);
  const table = [
    [options.by, 'runs', 'model calls', 'input tokens', 'output tokens', 'cost USD'],
    ...rows.map((r) => [
      r.key + (r.unpriced.length ? ' *' : ''),
      String(r.runs),
      String(r.modelCalls),
      String(r.inputTokens),
      String(r.outputTokens),
      r.costUsd.toFixed(6),
    ]),
  ];
  const widths = table[0]?.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length))) ?? [];
  const out = table.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  if (rows.some((r) => r.unpriced.length))
    out.push('* a model without a price (counted as $0): set SWITCHBOARD_PRICES');
  return out.join('\n');
}

/**
 * The observability CLI commands as functions of parsed options, returning the text to print (the
 * commander wrappers in src/cli stay thin): `trace --graph`, `agents`, `usage`.
 */
import { NotFoundError } from '../core/errors.ts';
import type { Store } from '../store/ports.ts';
import { treeUsage, usageReport, type PriceTable, type UsageDimension } from './cost.ts';
import { runGraph, toMermaid, windowGraph } from './graph.ts';
import { agentHealth, type AgentHealth, type VersionSource } from './health.ts';
import { parseDuration } from './scan.ts';

export { agentLabels } from './health.ts';

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

const usd = (x: number | null): string => (x === null ? '-' : `$${x.toFixed(4)}`);

/** Lines of a table, columns padded to their widest cell. */
const table = (rows: string[][]): string[] => {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
};

/**
 * The versions of the agents that have more than one (or one nobody serves), a row each, so the
 * figures of an agent's versions read side by side.
 */
const versionRows = (health: readonly AgentHealth[]): string[][] => {
  const rows: string[][] = [];
  for (const h of health) {
    if (h.versions.length < 2 && h.versionsNotServed.length === 0) continue;
    const unserved = new Map(h.versionsNotServed.map((u) => [u.version, u.reason]));
    const listed = new Set(h.versions.map((v) => v.version));
    for (const { version, figures: f } of h.versions)
      rows.push([
        h.agent,
        version,
        String(f.runs),
        String(f.finished),
        pct(f.errorRate),
        pct(f.toolErrorRate),
        pct(f.escalationRate),
        pct(f.denialRate),
        ms(f.p95LatencyMs),
        usd(f.costPerRun),
        unserved.has(version) ? `no: ${unserved.get(version) ?? ''}` : 'yes',
      ]);
    for (const [version, reason] of unserved)
      if (!listed.has(version)) rows.push([h.agent, version, ...Array<string>(8).fill('-'), `no: ${reason}`]);
  }
  return rows;
};

/**
 * `switchboard agents [--window 15m] [--json]`: health per agent, then the figures of each version
 * of a multi-version agent side by side (`versions` is the system's deployments API).
 */
export async function agentsCommand(
  store: Store,
  options: {
    agents: readonly string[];
    window?: string;
    json?: boolean;
    now?: number;
    versions?: VersionSource;
    labels?: Readonly<Record<string, readonly string[]>>;
  },
): Promise<string> {
  const health = await agentHealth(store, {
    agents: options.agents,
    windowMs: parseDuration(options.window ?? '15m'),
    now: options.now ?? store.now(),
    ...(options.versions ? { versions: options.versions } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
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
  const versions = versionRows(health);
  const out = table(rows);
  if (versions.length)
    out.push(
      '',
      ...table([
        [
          'agent',
          'version',
          'runs',
          'finished',
          'errors',
          'tool errors',
          'escalations',
          'denials',
          'p95',
          'cost/run',
          'served',
        ],
        ...versions,
      ]),
    );
  return out.join('\n');
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

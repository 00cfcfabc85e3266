/**
 * Token cost: a price table per model (USD per million input / output tokens), the cost of a run,
 * of its whole delegation tree, and usage grouped by agent, actor or model over a window. Cost is
 * computed from the journal's recorded token usage, so it can be recomputed with new prices.
 */
import type { JournalEvent, TokenUsage } from '../core/events.ts';
import { ConfigError } from '../core/errors.ts';
import type { Store } from '../store/ports.ts';
import { scanRuns } from './scan.ts';

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Cached input tokens, when the provider bills them differently (defaults to `input`). */
  cachedInput?: number;
}

export type PriceTable = Record<string, ModelPrice>;

/**
 * List prices (USD per million tokens) of common models, mid-2025. Prices change: override them
 * with `SWITCHBOARD_PRICES` (a JSON object of the same shape) or the `prices` option.
 */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-3-5-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08 },
  // Switchboard's own models run no LLM.
  offline: { input: 0, output: 0 },
  scripted: { input: 0, output: 0 },
  policy: { input: 0, output: 0 },
};

/** The default table merged with `SWITCHBOARD_PRICES` (JSON) and `overrides`. */
export function priceTable(overrides: PriceTable = {}, env: NodeJS.ProcessEnv = {}): PriceTable {
  let fromEnv: PriceTable = {};
  if (env.SWITCHBOARD_PRICES) {
    try {
      fromEnv = JSON.parse(env.SWITCHBOARD_PRICES) as PriceTable;
    } catch {
      throw new ConfigError(
        'SWITCHBOARD_PRICES',
        'must be a JSON object: {"model": {"input": 3, "output": 15}}',
      );
    }
  }
  return { ...DEFAULT_PRICES, ...fromEnv, ...overrides };
}

/**
 * The price of a model id: exact match, else the longest table key the id starts with after any
 * provider prefix (`anthropic.claude-sonnet-4-20250514-v1:0` → `claude-sonnet-4`).
 */
export function priceOf(table: PriceTable, modelId: string): ModelPrice | undefined {
  const exact = table[modelId];
  if (exact) return exact;
  const bare = modelId.replace(/^.*[/.](?=[a-z])/i, '').replace(/^(us|eu|apac)\./, '');
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if ((bare.startsWith(key) || modelId.startsWith(key)) && key.length > (best?.length ?? 0)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

/** USD cost of one model call's usage; 0 for an unpriced model. */
export function costOf(table: PriceTable, modelId: string, usage: TokenUsage): number {
  const p = priceOf(table, modelId);
  if (!p) return 0;
  const cached = usage.cachedInputTokens ?? 0;
  const fresh = Math.max(0, usage.inputTokens - cached);
  return (fresh * p.input + cached * (p.cachedInput ?? p.input) + usage.outputTokens * p.output) / 1e6;
}

export interface Usage {
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Model ids that had no price (their cost counts as 0). */
  unpriced: string[];
}

const emptyUsage = (): Usage => ({
  modelCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  unpriced: [],
});

function addUsage(into: Usage, from: Usage): void {
  into.modelCalls += from.modelCalls;
  into.inputTokens += from.inputTokens;
  into.outputTokens += from.outputTokens;
  into.costUsd += from.costUsd;
  for (const m of from.unpriced) if (!into.unpriced.includes(m)) into.unpriced.push(m);
}

/** Usage of one run's own model calls (not its children). */
export function runUsage(events: readonly JournalEvent[], table: PriceTable): Usage {
  const u = emptyUsage();
  for (const e of events) {
    if (e.type !== 'model.responded') continue;
    u.modelCalls += 1;
    u.inputTokens += e.data.usage.inputTokens;
    u.outputTokens += e.data.usage.outputTokens;
    u.costUsd += costOf(table, e.data.modelId, e.data.usage);
    if (!priceOf(table, e.data.modelId) && !u.unpriced.includes(e.data.modelId))
      u.unpriced.push(e.data.modelId);
  }
  return u;
}

/** A run's usage with its delegation tree rolled up. */
export interface TreeUsage {
  runId: string;
  agent: string | null;
  self: Usage;
  /** Self plus every descendant. */
  total: Usage;
  children: TreeUsage[];
}

/** Usage of a run and every run it delegated to, recursively (children read from their journals). */
export async function treeUsage(store: Store, runId: string, table: PriceTable): Promise<TreeUsage> {
  const events = await store.journal.read(runId);
  const self = runUsage(events, table);
  const total = emptyUsage();
  addUsage(total, self);
  const children: TreeUsage[] = [];
  let agent: string | null = null;
  for (const e of events) {
    if (e.type === 'route.decided' || e.type === 'agent.started') agent = e.data.agent;
    if (e.type !== 'delegation.requested') continue;
    const child = await treeUsage(store, e.data.childRunId, table);
    children.push(child);
    addUsage(total, child.total);
  }
  return { runId, agent, self, total, children };
}

export type UsageDimension = 'agent' | 'actor' | 'model';

export interface UsageRow extends Usage {
  key: string;
  runs: number;
}

/**
 * Usage grouped by agent, actor or model, counting model calls made at or after `sinceMs`
 * (delegated runs count under their own agent, and under the actor of the request).
 */
export async function usageReport(
  store: Store,
  options: { by: UsageDimension; sinceMs: number; prices: PriceTable; maxRuns?: number },
): Promise<UsageRow[]> {
  const rows = new Map<string, UsageRow & { runIds: Set<string> }>();
  for (const { events } of await scanRuns(store, options)) {
    let agent = '(unrouted)';
    const first = events[0];
    const actor = first?.type === 'run.submitted' ? first.data.actorId : '(unknown)';
    for (const e of events) {
      if (e.type === 'route.decided' || e.type === 'agent.started') agent = e.data.agent;
      if (e.type !== 'model.responded' || e.at < options.sinceMs) continue;
      const key = options.by === 'agent' ? agent : options.by === 'actor' ? actor : e.data.modelId;
      let row = rows.get(key);
      if (!row) {
        row = { key, runs: 0, runIds: new Set(), ...emptyUsage() };
        rows.set(key, row);
      }
      row.runIds.add(e.runId);
      addUsage(row, runUsage([e], options.prices));
    }
  }
  return [...rows.values()]
    .map(({ runIds, ...row }) => ({ ...row, runs: runIds.size }))
    .sort(
      (a, b) => b.costUsd - a.costUsd || b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens),
    );
}

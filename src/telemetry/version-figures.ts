/**
 * Per-version figures: what one version of an agent did over a window — error, tool error,
 * escalation and denial rates, p95 latency, cost and tokens per run. Deployment alarms compare a
 * new version's figures with the old one's; `switchboard agents`, health and the console show them
 * side by side.
 *
 * Rows come from the runs projection (agent, version, createdAfter); the tool and approval
 * outcomes from the journals of finished runs, folded once and cached by runId (a finished run's
 * journal no longer changes). Shadow runs (actor `shadow:*`) are never counted.
 */
import type { Figures } from '../core/deployment.ts';
import type { JournalEvent } from '../core/events.ts';
import { TERMINAL_STATUSES } from '../core/run-state.ts';
import type { RunRow, Store } from '../store/ports.ts';

export type { Figures } from '../core/deployment.ts';

/** What a finished run contributes, from its journal. */
interface RunFacts {
  toolCalls: number;
  toolFailures: number;
  denied: boolean;
  costUsd: number;
  tokens: number;
}

/** Finished runs' facts by runId: bounded, oldest dropped first. */
const CACHE_LIMIT = 20_000;
const cache = new Map<string, RunFacts>();

/** A run's tool and approval outcomes: final tool failures, policy denials and refused approvals. */
export function runFacts(events: readonly JournalEvent[]): RunFacts {
  const calls = new Set<string>();
  let toolFailures = 0;
  let denied = false;
  let costUsd = 0;
  let tokens = 0;
  for (const e of events) {
    // Cost and tokens from the run's own totals, written with its end.
    if (e.type === 'run.completed' || e.type === 'run.failed' || e.type === 'run.cancelled') {
      costUsd = e.data.totals.costUsd;
      tokens = e.data.totals.inputTokens + e.data.totals.outputTokens;
    }
    if (e.type === 'tool.started') calls.add(e.data.callId);
    // A failure with a next attempt is retried: only the last word on a call counts.
    else if (e.type === 'tool.failed' && e.data.nextAttemptAt === undefined) toolFailures += 1;
    else if (e.type === 'tool.denied' && e.data.reason === 'policy-denied') denied = true;
    else if (
      e.type === 'approval.decided' &&
      (e.data.decision === 'rejected' || (e.data.decision === 'expired' && e.data.outcome !== 'approved'))
    )
      denied = true;
  }
  return { toolCalls: calls.size, toolFailures, denied, costUsd, tokens };
}

async function factsOf(store: Store, row: RunRow): Promise<RunFacts> {
  const hit = cache.get(row.runId);
  if (hit) return hit;
  const facts = runFacts(await store.journal.read(row.runId));
  // An escalated run may be reopened: only closed journals are cached.
  if (row.status === 'escalated') return facts;
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(row.runId, facts);
  return facts;
}

/** The q-quantile (nearest rank) of ascending values; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const share = (n: number, d: number): number => (d === 0 ? 0 : n / d);

export interface VersionFiguresQuery {
  agent: string;
  /** The version label; `null` for runs without one (an unlabeled agent's). */
  version: string | null;
  /** Window start (ms, inclusive). */
  since: number;
  /** Window end (ms, exclusive); open when absent. */
  until?: number;
  /** Only the newest `limit` finished runs of the window (the old version's baseline). */
  limit?: number;
}

/**
 * The figures of one version over a window.
 * @example
 * const f = await versionFigures(store, { agent: 'commerce', version: 'v2', since: Date.now() - 3_600_000 });
 */
export async function versionFigures(store: Store, q: VersionFiguresQuery): Promise<Figures> {
  const rows = (
    await store.runs.list({
      agent: q.agent,
      ...(q.version !== null ? { version: q.version } : {}),
      createdAfter: q.since,
    })
  ).filter(
    (r) =>
      (q.version !== null || (r.version ?? null) === null) &&
      (q.until === undefined || r.createdAt < q.until) &&
      !r.actorId.startsWith('shadow:'),
  );
  let finished = rows.filter((r) => TERMINAL_STATUSES.has(r.status));
  if (q.limit !== undefined) finished = finished.sort((a, b) => b.createdAt - a.createdAt).slice(0, q.limit);
  return figuresOf(q.limit !== undefined ? finished.length : rows.length, finished, (r) => factsOf(store, r));
}

async function figuresOf(
  runs: number,
  finished: readonly RunRow[],
  facts: (row: RunRow) => Promise<RunFacts>,
): Promise<Figures> {
  const count = (s: string): number => finished.filter((r) => r.status === s).length;
  let toolCalls = 0;
  let toolFailures = 0;
  let denied = 0;
  let cost = 0;
  let tokens = 0;
  for (const r of finished) {
    const f = await facts(r);
    toolCalls += f.toolCalls;
    toolFailures += f.toolFailures;
    denied += f.denied ? 1 : 0;
    cost += f.costUsd;
    tokens += f.tokens;
  }
  const n = finished.length;
  const latencies = finished.map((r) => Math.max(0, r.updatedAt - r.createdAt)).sort((a, b) => a - b);
  const failed = count('failed');
  const escalated = count('escalated');
  return {
    runs,
    finished: n,
    completed: count('completed'),
    failed,
    escalated,
    errorRate: share(failed, n),
    toolErrorRate: share(toolFailures, toolCalls),
    escalationRate: share(escalated, n),
    denialRate: share(denied, n),
    p95LatencyMs: quantile(latencies, 0.95),
    costPerRun: share(cost, n),
    tokensPerRun: share(tokens, n),
  };
}

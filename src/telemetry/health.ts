/**
 * Agent health over a rolling window, from the journal: success rate, p50/p95 run latency, retry
 * rate, denial rate and queue depth, judged `healthy | degraded | unhealthy` with the reasons.
 * (Circuit breakers belong to the engine and are reported here once it journals them.) With a
 * {@link VersionSource} (the system's deployments API) it adds each version's figures side by side
 * and the versions no live worker serves, which make the agent unhealthy: their runs would wait.
 */
import { agentQueue } from '../core/queues.ts';
import type { Store } from '../store/ports.ts';
import { scanRuns } from './scan.ts';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthThresholds {
  /** Fewer finished runs than this and rates are not judged (too few to mean anything). */
  minRuns: number;
  degradedSuccessRate: number;
  unhealthySuccessRate: number;
  degradedP95Ms: number;
  degradedRetryRate: number;
  degradedDenialRate: number;
  degradedQueueDepth: number;
  unhealthyQueueDepth: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  minRuns: 5,
  degradedSuccessRate: 0.9,
  unhealthySuccessRate: 0.5,
  degradedP95Ms: 60_000,
  degradedRetryRate: 0.2,
  degradedDenialRate: 0.1,
  degradedQueueDepth: 50,
  unhealthyQueueDepth: 500,
};

/**
 * One version's figures over the window (`versionFigures` in telemetry/version-figures.ts): kept
 * structural here, so health reads whatever the deployments API computes without importing it.
 */
export interface VersionFigures {
  runs: number;
  finished: number;
  completed: number;
  failed: number;
  escalated: number;
  errorRate: number | null;
  toolErrorRate: number | null;
  escalationRate: number | null;
  denialRate: number | null;
  p95LatencyMs: number | null;
  costPerRun: number | null;
  tokensPerRun: number | null;
}

/** Where per-version figures and unserved versions come from (`system.deployments`). */
export interface VersionSource {
  figures(agent: string, o?: { sinceMs?: number }): Promise<{ version: string; figures: VersionFigures }[]>;
  unserved(): Promise<{ agent: string; version: string; reason: string }[]>;
}

export interface AgentHealth {
  agent: string;
  status: HealthStatus;
  reasons: string[];
  windowMs: number;
  runs: { finished: number; completed: number; failed: number; cancelled: number; active: number };
  successRate: number | null;
  latencyMs: { p50: number | null; p95: number | null };
  toolCalls: number;
  retryRate: number | null;
  denialRate: number | null;
  queueDepth: number;
  /** Tools whose circuit breaker is open or probing. */
  openBreakers: string[];
  /** Each version's figures over the window, side by side (empty without a {@link VersionSource}). */
  versions: { version: string; figures: VersionFigures }[];
  /** Labeled versions with traffic or waiting runs that no live worker serves. */
  versionsNotServed: { version: string; reason: string }[];
}

/** The q-quantile (0..1) of sorted numbers, nearest-rank. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? null;
}

/**
 * Health of each agent over the window ending at `now`.
 * @example
 * const health = await agentHealth(system.store, { agents: ['support'], windowMs: 15 * 60_000, now: Date.now() });
 */
export async function agentHealth(
  store: Store,
  options: {
    agents: readonly string[];
    windowMs: number;
    now: number;
    thresholds?: Partial<HealthThresholds>;
    maxRuns?: number;
    /** Per-version figures and unserved versions (`system.deployments`). */
    versions?: VersionSource;
    /** Labeled versions per agent: their queues (`agent:<name>@<label>`) count in its queue depth. */
    labels?: Readonly<Record<string, readonly string[]>>;
  },
): Promise<AgentHealth[]> {
  const t = { ...DEFAULT_HEALTH_THRESHOLDS, ...options.thresholds };
  const since = options.now - options.windowMs;
  const acc = new Map(
    options.agents.map((a) => [
      a,
      {
        completed: 0,
        failed: 0,
        cancelled: 0,
        active: 0,
        durations: [] as number[],
        attempts: 0,
        retries: 0,
        calls: 0,
        denials: 0,
        breakers: new Map<string, { state: string; until: number | undefined; at: number }>(),
      },
    ]),
  );
  for (const { events } of await scanRuns(store, {
    sinceMs: since,
    ...(options.maxRuns ? { maxRuns: options.maxRuns } : {}),
  })) {
    let agent: string | undefined;
    const first = events[0];
    let ended = false;
    for (const e of events) {
      if (e.type === 'route.decided' || e.type === 'agent.started') agent = e.data.agent;
      const a = agent === undefined ? undefined : acc.get(agent);
      if (!a || e.at < since) continue;
      switch (e.type) {
        case 'tool.started':
          a.attempts += 1;
          if (e.data.attempt === 1) a.calls += 1;
          break;
        case 'tool.failed':
          if (e.data.nextAttemptAt !== undefined) a.retries += 1;
          break;
        case 'tool.denied':
          a.calls += 1;
          a.denials += 1;
          break;
        case 'breaker.changed': {
          const prev = a.breakers.get(e.data.tool);
          if (!prev || prev.at <= e.at)
            a.breakers.set(e.data.tool, { state: e.data.state, until: e.data.until, at: e.at });
          break;
        }
        case 'delegation.requested':
          a.calls += 1;
          break;
        case 'run.completed':
        case 'run.failed':
        case 'run.cancelled':
          ended = true;
          a[e.type === 'run.completed' ? 'completed' : e.type === 'run.failed' ? 'failed' : 'cancelled'] += 1;
          if (first) a.durations.push(e.at - first.at);
          break;
        default:
          break;
      }
    }
    const a = agent === undefined ? undefined : acc.get(agent);
    if (a && !ended) a.active += 1;
  }
  const unserved = (await options.versions?.unserved()) ?? [];
  const out: AgentHealth[] = [];
  for (const [agent, a] of acc) {
    const finished = a.completed + a.failed + a.cancelled;
    const decided = a.completed + a.failed;
    const sorted = [...a.durations].sort((x, y) => x - y);
    const queueDepth = await agentQueueDepth(store, agent, options.labels?.[agent] ?? []);
    const h: AgentHealth = {
      agent,
      status: 'healthy',
      reasons: [],
      windowMs: options.windowMs,
      runs: { finished, completed: a.completed, failed: a.failed, cancelled: a.cancelled, active: a.active },
      successRate: decided ? a.completed / decided : null,
      latencyMs: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) },
      toolCalls: a.calls,
      retryRate: a.attempts ? a.retries / a.attempts : null,
      denialRate: a.calls ? a.denials / a.calls : null,
      queueDepth,
      openBreakers: [...a.breakers]
        .filter(([, b]) => b.state === 'half-open' || (b.state === 'open' && (b.until ?? 0) > options.now))
        .map(([tool]) => tool),
      versions: (await options.versions?.figures(agent, { sinceMs: since })) ?? [],
      versionsNotServed: unserved
        .filter((u) => u.agent === agent)
        .map((u) => ({ version: u.version, reason: u.reason })),
    };
    const bad = (status: HealthStatus, reason: string): void => {
      if (status === 'unhealthy' || h.status === 'healthy') h.status = status;
      h.reasons.push(reason);
    };
    const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
    if (decided >= t.minRuns && h.successRate !== null) {
      if (h.successRate < t.unhealthySuccessRate)
        bad('unhealthy', `success rate ${pct(h.successRate)} < ${pct(t.unhealthySuccessRate)}`);
      else if (h.successRate < t.degradedSuccessRate)
        bad('degraded', `success rate ${pct(h.successRate)} < ${pct(t.degradedSuccessRate)}`);
    }
    if (finished >= t.minRuns && h.latencyMs.p95 !== null && h.latencyMs.p95 > t.degradedP95Ms)
      bad('degraded', `p95 latency ${h.latencyMs.p95} ms > ${t.degradedP95Ms} ms`);
    if (a.attempts >= t.minRuns && h.retryRate !== null && h.retryRate > t.degradedRetryRate)
      bad('degraded', `retry rate ${pct(h.retryRate)} > ${pct(t.degradedRetryRate)}`);
    if (a.calls >= t.minRuns && h.denialRate !== null && h.denialRate > t.degradedDenialRate)
      bad('degraded', `denial rate ${pct(h.denialRate)} > ${pct(t.degradedDenialRate)}`);
    for (const tool of h.openBreakers) bad('degraded', `circuit breaker open: ${tool}`);
    for (const u of h.versionsNotServed) bad('unhealthy', `version ${u.version} not served: ${u.reason}`);
    if (queueDepth >= t.unhealthyQueueDepth)
      bad('unhealthy', `queue depth ${queueDepth} >= ${t.unhealthyQueueDepth}`);
    else if (queueDepth >= t.degradedQueueDepth)
      bad('degraded', `queue depth ${queueDepth} >= ${t.degradedQueueDepth}`);
    out.push(h);
  }
  return out;
}

/**
 * The distinct agent names of a configuration and the labeled versions of each (several
 * definitions share a name when they are versions of one agent).
 */
export function agentLabels(defs: readonly { name: string; version?: string }[]): {
  agents: string[];
  labels: Record<string, string[]>;
} {
  const labels: Record<string, string[]> = {};
  for (const d of defs) {
    const l = (labels[d.name] ??= []);
    if (d.version && !l.includes(d.version)) l.push(d.version);
  }
  return { agents: Object.keys(labels), labels };
}

/** Wake-ups waiting for an agent: on its own queue and on each of its labeled versions' queues. */
async function agentQueueDepth(store: Store, agent: string, labels: readonly string[]): Promise<number> {
  let depth = await store.queue.depth(agentQueue(agent));
  for (const label of new Set(labels)) depth += await store.queue.depth(agentQueue(agent, label));
  return depth;
}

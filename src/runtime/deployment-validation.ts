/**
 * Validation hooks of a deployment (`deployments.validation`).
 *
 * Pre-traffic: replay the agent's last N finished runs of the `from` version against the `to`
 * version's definition (replay/replay.ts, recorded model and tool outputs served). A new version
 * is expected to differ, so only divergences of kind tool-call, tools-shown, decision and route
 * count: the new definition would refuse a call the old one made, show other tools, or end
 * differently. Post-traffic: the `to` version's own runs since the deployment began replay
 * against its definition the same way. Either phase also runs the routing suite when one is
 * configured (routing/suite.ts): every case must be decided right.
 */
import { readFile } from 'node:fs/promises';
import type { PolicyRule } from '../core/policy.ts';
import type { AgentRouter, ToolRetriever } from '../core/routing-port.ts';
import type { ValidationOptions } from '../core/deployment.ts';
import { TERMINAL_STATUSES } from '../core/run-state.ts';
import { firstDivergence, replayRun, type DivergenceKind, type ReplayConfig } from '../replay/replay.ts';
import { evaluateSuite, suiteSchema } from '../routing/suite.ts';
import type { DeploymentRecord } from '../store/deployment-port.ts';
import type { Store } from '../store/ports.ts';
import { versionKey, type AgentRuntime } from './agents.ts';

/** What validation needs of the engine: the configured versions and the routing. */
export interface ValidationEngine {
  agents: ReadonlyMap<string, AgentRuntime>;
  versions: ReadonlyMap<string, AgentRuntime>;
  opts: {
    router?: AgentRouter;
    retrievers?: Map<string, ToolRetriever>;
    defaultAgent?: string;
    policies?: readonly PolicyRule[];
  };
}

/** Divergence kinds that fail a deployment's replay (a changed prompt or answer is expected). */
export const COUNTED_DIVERGENCES: ReadonlySet<DivergenceKind> = new Set([
  'tool-call',
  'tools-shown',
  'decision',
  'route',
]);

export interface ValidationResult {
  ok: boolean;
  reason: string;
  metrics: Record<string, unknown>;
}

/** The replay configuration with the agent's name mapped to one version's runtime. */
export function replayConfigFor(
  engine: ValidationEngine,
  agent: string,
  version: string,
): ReplayConfig | null {
  const runtime = engine.versions.get(versionKey(agent, version));
  if (!runtime) return null;
  const agents = new Map(engine.agents);
  agents.set(agent, runtime);
  const retrievers = new Map(engine.opts.retrievers ?? []);
  const own = engine.opts.retrievers?.get(runtime.key);
  if (own) retrievers.set(agent, own);
  const { router, defaultAgent, policies } = engine.opts;
  return { agents, router, retrievers, defaultAgent, ...(policies ? { policies } : {}) };
}

/** Replay the newest `runs` finished root runs of `recorded` against `against`'s definition. */
async function replayCheck(
  store: Store,
  engine: ValidationEngine,
  d: DeploymentRecord,
  recorded: string,
  since: number | undefined,
  o: { runs: number; maxDivergenceRate: number },
): Promise<ValidationResult> {
  const config = replayConfigFor(engine, d.agent, d.to);
  if (!config) return { ok: false, reason: `${d.agent}@${d.to} is not configured here`, metrics: {} };
  const rows = (
    await store.runs.list({
      agent: d.agent,
      version: recorded,
      ...(since !== undefined ? { createdAfter: since } : {}),
    })
  )
    .filter(
      (r) => TERMINAL_STATUSES.has(r.status) && r.parentRunId === null && !r.actorId.startsWith('shadow:'),
    )
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, o.runs);
  if (rows.length === 0)
    return { ok: true, reason: 'no recorded runs to replay', metrics: { replayed: 0, divergent: 0 } };
  const divergent: { runId: string; kind: string; message: string }[] = [];
  let ignored = 0;
  for (const row of rows) {
    const report = await replayRun((id) => store.journal.read(id), row.runId, config);
    const div = firstDivergence(report);
    if (div && COUNTED_DIVERGENCES.has(div.kind))
      divergent.push({ runId: row.runId, kind: div.kind, message: div.message });
    else if (div) ignored += 1;
  }
  const rate = divergent.length / rows.length;
  const metrics = {
    replayed: rows.length,
    divergent: divergent.length,
    divergenceRate: rate,
    maxDivergenceRate: o.maxDivergenceRate,
    ignoredDivergences: ignored,
    runs: divergent.slice(0, 10),
  };
  const summary = `${divergent.length}/${rows.length} recorded runs of ${recorded} diverge on ${d.to}`;
  return rate > o.maxDivergenceRate
    ? { ok: false, reason: `${summary} (above ${o.maxDivergenceRate})`, metrics }
    : { ok: true, reason: summary, metrics };
}

/** Run a routing suite file; it passes when every case is decided right. */
async function suiteCheck(path: string, router: AgentRouter | undefined): Promise<ValidationResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    return { ok: false, reason: `suite ${path} unreadable: ${(error as Error).message}`, metrics: {} };
  }
  const parsed = suiteSchema.safeParse(raw);
  if (!parsed.success)
    return {
      ok: false,
      reason: `suite ${path} malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      metrics: {},
    };
  const custom = parsed.data.kind === 'agents' && router ? { kind: 'agents' as const, router } : undefined;
  const { result } = evaluateSuite(parsed.data, [1], undefined, custom);
  const ok =
    (result.top1 === null || result.top1 === 1) &&
    (result.falseAbstainRate === null || result.falseAbstainRate === 0) &&
    (result.abstainRecall === null || result.abstainRecall === 1);
  return {
    ok,
    reason: `suite ${result.suite}: top-1 ${result.top1 ?? 'n/a'}, abstention recall ${result.abstainRecall ?? 'n/a'}`,
    metrics: { suite: result },
  };
}

/** Validate a deployment's new version before (`pre`) or after (`post`) it takes traffic. */
export async function validateVersion(
  store: Store,
  engine: ValidationEngine,
  d: DeploymentRecord,
  phase: 'pre' | 'post',
  o: ValidationOptions,
): Promise<ValidationResult> {
  const parts: ValidationResult[] = [];
  if (o.replay !== false)
    parts.push(
      await replayCheck(
        store,
        engine,
        d,
        phase === 'pre' ? d.from : d.to,
        phase === 'pre' ? undefined : d.createdAt,
        o.replay,
      ),
    );
  if (o.suite !== undefined) parts.push(await suiteCheck(o.suite, engine.opts.router));
  if (parts.length === 0) return { ok: true, reason: 'no validation configured', metrics: {} };
  return {
    ok: parts.every((p) => p.ok),
    reason: parts.map((p) => p.reason).join('; '),
    metrics: Object.assign({}, ...parts.map((p) => p.metrics)) as Record<string, unknown>,
  };
}

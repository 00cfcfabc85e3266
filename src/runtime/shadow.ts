/**
 * Shadow runs (issue 18). A live run of a shadowed version spawns, in its final commit, a shadow run
 * of the deployment's `to` version on the same input ({@link shadowSpawnParts}). The shadow's model
 * calls are real; its tool calls never execute ({@link performShadowCall}): a call identical to an
 * unconsumed successful call of the live run is served that call's recorded result, any other is
 * denied `shadow-divergent`. It sees the live run's memory and persists none ({@link shadowMemory}).
 * DeploymentsApi (H2) builds DeploymentView.shadow with {@link shadowReportOf}(store, deploymentId).
 */
import { createHash } from 'node:crypto';
import { event, EVENT_SCHEMA_VERSION, type JournalEvent } from '../core/events.ts';
import { initialState, type CallState, type RunState } from '../core/run-state.ts';
import { parseStrategy } from '../core/deployment.ts';
import { shadowReport, type ShadowReport } from '../core/shadow-report.ts';
import type { DeploymentRecord } from '../store/deployment-port.ts';
import type { Commit, Store } from '../store/ports.ts';
import { canonical } from '../replay/replay.ts';
import { agentQueue } from './agents.ts';
import type { Engine } from './engine.ts';
import { projectRun, type RunHandle } from './handle.ts';

/** Deterministic share of a run id in [0, 100): the same run is always in or out of a sample. */
export function hashPct(runId: string): number {
  return createHash('sha256').update(runId).digest().readUInt32BE(0) % 100;
}

const CACHE_MS = 1000;
const active = new WeakMap<Store, { at: number; deployments: Promise<DeploymentRecord[]> }>();

/** Active deployments, read at most once a second per store (the end of every live run asks). */
function activeDeployments(store: Store): Promise<DeploymentRecord[]> {
  const now = Date.now();
  const hit = active.get(store);
  if (hit && now - hit.at < CACHE_MS) return hit.deployments;
  const deployments = store.deployments.deployments({ active: true }).catch(() => []);
  active.set(store, { at: now, deployments });
  return deployments;
}

/** The in-progress shadow deployment a live run's end samples, within its window, or null. */
function shadowingOf(ds: DeploymentRecord[], state: RunState, now: number): DeploymentRecord | null {
  for (const d of ds) {
    if (d.status !== 'in_progress' || d.agent !== state.agent || d.from !== state.version) continue;
    let s;
    try {
      s = parseStrategy(d.strategy);
    } catch {
      continue;
    }
    if (s.kind !== 'shadow') continue;
    const started = d.steps.find((x) => x.decision === 'shadow_started');
    if (!started || now > started.at + s.durationMs) continue;
    if (hashPct(state.runId) < s.pct) return d;
  }
  return null;
}

/** The parts of a live run's final commit that create its shadow run, or null (none is due). */
export async function shadowSpawnParts(engine: Engine, state: RunState): Promise<Partial<Commit> | null> {
  const sub = state.submitted;
  if (sub.shadow || sub.parentRunId || state.version === undefined || state.agent === undefined) return null;
  if (!['completed', 'failed', 'escalated'].includes(state.status)) return null;
  const d = shadowingOf(await activeDeployments(engine.store), state, engine.store.now());
  if (!d) return null;
  const runId = engine.opts.newId('run');
  const submitted = event('run.submitted', {
    actorId: `shadow:${d.deploymentId}`,
    sessionId: state.runId,
    input: sub.input,
    channel: 'shadow',
    agent: d.agent,
    version: d.to,
    shadow: { deploymentId: d.deploymentId, liveRunId: state.runId },
    lineage: [],
    depth: 0,
    budget: sub.budget,
  });
  const now = engine.store.now();
  const first = { runId, seq: 1, at: now, v: EVENT_SCHEMA_VERSION, ...submitted };
  // No session join: like a child, the shadow holds no session slot of anyone's.
  return {
    appends: [{ runId, expectedSeq: 1, events: [submitted] }],
    upsertTasks: [{ runId, queue: agentQueue(d.agent, d.to), readyAt: now }],
    projection: [projectRun(initialState(first))],
  };
}

/** Successful calls of the live run, in order: tool name, canonical args, the result the model saw. */
function liveSuccesses(events: readonly JournalEvent[]): { key: string; result: unknown }[] {
  const calls = new Map<string, { tool: string; args: unknown }>();
  const out: { key: string; result: unknown }[] = [];
  for (const e of events) {
    if (e.type === 'model.responded')
      for (const c of e.data.toolCalls) calls.set(c.callId, { tool: c.toolName, args: c.input });
    if (e.type === 'tool.started') calls.set(e.data.callId, { tool: e.data.tool, args: e.data.args });
    const done =
      e.type === 'tool.succeeded'
        ? { callId: e.data.callId, result: e.data.result }
        : e.type === 'delegation.completed' && e.data.status === 'completed'
          ? { callId: e.data.callId, result: e.data.output ?? '' }
          : e.type === 'run.escalated' && e.data.callId
            ? { callId: e.data.callId, result: 'Handed to a person.' }
            : null;
    const c = done ? calls.get(done.callId) : undefined;
    if (done && c) out.push({ key: `${c.tool}\u0000${canonical(c.args)}`, result: done.result });
  }
  return out;
}

/** Keys of the shadow's own calls already served (each live success serves one shadow call). */
function servedKeys(state: RunState): string[] {
  const inputs = new Map<string, string>();
  for (const t of state.turns)
    if (t.role === 'assistant')
      for (const c of t.toolCalls) inputs.set(c.callId, `${c.toolName}\u0000${canonical(c.input)}`);
  const keys: string[] = [];
  for (const t of state.turns)
    if (t.role === 'tool' && t.output.kind === 'result') keys.push(inputs.get(t.callId) ?? '');
  return keys;
}

/**
 * A shadow run's tool call: served from the live run's record, or denied as a divergence. Never
 * runs a tool, creates a child run, writes a fact or requests an approval.
 */
export async function performShadowCall(
  engine: Engine,
  h: RunHandle,
  c: CallState,
  attempt: number,
): Promise<void> {
  const liveRunId = h.state.submitted.shadow?.liveRunId ?? '';
  const { callId, toolName } = c.call;
  const key = `${toolName}\u0000${canonical(c.call.input)}`;
  const successes = liveSuccesses(await engine.store.journal.read(liveRunId)).filter((s) => s.key === key);
  const used = servedKeys(h.state).filter((k) => k === key).length;
  const match = successes[used];
  if (!match) {
    h.emit(
      event('tool.denied', {
        callId,
        tool: toolName,
        reason: 'shadow-divergent',
        message: `This is a shadow run: ${toolName} was not executed (the live run made no identical call). Carry on without its result.`,
      }),
    );
    return;
  }
  const occurredAt = engine.store.now();
  const idempotencyKey = `${h.runId}:${callId}`;
  h.emit(
    event('tool.started', {
      callId,
      tool: toolName,
      args: c.call.input,
      attempt,
      idempotencyKey,
      occurredAt,
    }),
  );
  h.emit(event('tool.succeeded', { callId, tool: toolName, attempt, result: match.result, occurredAt }));
}

/** A shadow run's memory: a copy of what its live run loaded; nothing is persisted. */
export async function shadowMemory(engine: Engine, h: RunHandle): Promise<void> {
  const liveRunId = h.state.submitted.shadow?.liveRunId ?? '';
  const loaded = (await engine.store.journal.read(liveRunId)).find((e) => e.type === 'memory.loaded');
  if (loaded?.type === 'memory.loaded') h.emit(event('memory.loaded', structuredClone(loaded.data)));
  else h.emit(event('memory.loaded', { turns: 0, tokens: 0, status: 'disabled' }));
}

/**
 * The shadow report of a shadow deployment (DeploymentView.shadow): every run of the actor
 * `shadow:<deploymentId>` paired with its live run. Called by DeploymentsApi (runtime/deployments.ts).
 */
export async function shadowReportOf(store: Store, deploymentId: string): Promise<ShadowReport> {
  const rows = await store.runs.list({ actorId: `shadow:${deploymentId}`, limit: 1000 });
  const pairs = await Promise.all(
    rows.map(async (r) => ({
      live: await store.journal.read(r.sessionId),
      shadow: await store.journal.read(r.runId),
    })),
  );
  return shadowReport(pairs);
}

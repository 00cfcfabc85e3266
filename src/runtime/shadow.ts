/**
 * Shadow runs. When a live run of the `from` version of an in-progress `shadow:`
 * deployment ends, its final commit also submits a shadow run of the `to` version with the same
 * request. A shadow run's model calls are real; its tool calls are never executed: a call the live
 * run made (same tool, same canonical arguments) is served the live run's recorded result, any
 * other call is denied as a divergence. It loads the live run's memory and persists nothing, asks
 * nobody for approval, creates no child run and reaches no person.
 */
import { createHash } from 'node:crypto';
import { ESCALATE_TOOL } from '../core/agent.ts';
import { parseStrategy } from '../core/deployment.ts';
import { governCall, policySubject } from '../core/decisions/admission.ts';
import { canonical } from '../core/decisions/output.ts';
import { event, type JournalEvent } from '../core/events.ts';
import type { CallState, RunState } from '../core/run-state.ts';
import { SHADOW_APPROVAL_PREFIX, shadowReport, type ShadowReport } from '../core/shadow-report.ts';
import type { Commit, Store } from '../store/ports.ts';
import { agentQueue } from './agents.ts';
import type { RunHandle } from './handle.ts';
import { submissionCommit } from './submit.ts';
import type { ToolHost } from './tool-host.ts';

/** The actor of a deployment's shadow runs. */
export const shadowActor = (deploymentId: string): string => `shadow:${deploymentId}`;

/** A deterministic 0..99 bucket of a run id: the same run is always in or out of the share. */
export function hashPct(runId: string): number {
  return createHash('sha256').update(runId).digest().readUInt32BE(0) % 100;
}

const SHADOWED: ReadonlySet<string> = new Set(['completed', 'failed', 'escalated']);

/** The parts of a live run's final commit that create its shadow run, or null (none is due). */
export async function shadowSpawnParts(engine: ToolHost, state: RunState): Promise<Partial<Commit> | null> {
  const sub = state.submitted;
  const { agent, version } = state;
  if (sub.parentRunId || sub.shadow || !agent || !version || !SHADOWED.has(state.status)) return null;
  try {
    const now = engine.store.now();
    const due = (await engine.selection.activeDeployments(agent)).find((d) => {
      if (d.status !== 'in_progress' || d.from !== version || !d.strategy.startsWith('shadow:')) return false;
      const s = parseStrategy(d.strategy);
      const started = d.steps.find((x) => x.decision === 'shadow_started');
      return (
        s.kind === 'shadow' &&
        started !== undefined &&
        now >= started.at &&
        now <= started.at + s.durationMs &&
        hashPct(state.runId) < s.pct
      );
    });
    if (!due) return null;
    const runId = engine.opts.newId('run');
    const data = {
      actorId: shadowActor(due.deploymentId),
      sessionId: state.runId,
      input: sub.input,
      channel: 'shadow',
      agent,
      version: due.to,
      shadow: { deploymentId: due.deploymentId, liveRunId: state.runId },
      lineage: [],
      depth: 0,
      budget: sub.budget,
    };
    return submissionCommit(runId, data, now, { queue: agentQueue(agent, due.to) });
  } catch {
    // A shadow is an experiment: it never stands in the way of the live run's end.
    return null;
  }
}

/** A successful call of the live run: what the shadow may be served. */
interface Recorded {
  callId: string;
  tool: string;
  /** Canonical forms that match: the model's raw input and the arguments the tool ran with. */
  inputs: Set<string>;
  result: unknown;
}

/** The live run's successful calls, in order: tools, completed delegations, its escalation. */
export function recordedCalls(live: readonly JournalEvent[]): Recorded[] {
  const raw = new Map<string, { tool: string; input: unknown }>();
  const started = new Map<string, unknown>();
  const out: Recorded[] = [];
  const add = (callId: string, result: unknown): void => {
    const call = raw.get(callId);
    if (!call) return;
    const inputs = new Set([canonical(call.input)]);
    if (started.has(callId)) inputs.add(canonical(started.get(callId)));
    out.push({ callId, tool: call.tool, inputs, result });
  };
  for (const e of live) {
    if (e.type === 'model.responded')
      for (const t of e.data.toolCalls) raw.set(t.callId, { tool: t.toolName, input: t.input });
    if (e.type === 'tool.started') started.set(e.data.callId, e.data.args);
    if (e.type === 'tool.succeeded') add(e.data.callId, e.data.result);
    if (e.type === 'delegation.completed' && e.data.status === 'completed')
      add(e.data.callId, e.data.output ?? null);
    if (e.type === 'run.escalated' && e.data.callId)
      add(e.data.callId, { escalated: true, note: 'the live run escalated this to people' });
  }
  return out;
}

/** Live calls already served to a shadow run: committed ones come from its journal, buffered ones from here. */
const servedInClaim = new WeakMap<RunHandle, Set<string>>();
const servedKey = (liveRunId: string, callId: string): string => `shadow:${liveRunId}:${callId}`;

async function consumedOf(engine: ToolHost, h: RunHandle): Promise<Set<string>> {
  const own = await engine.store.journal.read(h.runId);
  const keys = own.flatMap((e) => (e.type === 'tool.started' ? [e.data.idempotencyKey] : []));
  return new Set([...keys, ...(servedInClaim.get(h) ?? [])]);
}

/** Whether the call would have waited for a person in a live run (policies and the tool's own rule). */
function approvalReasons(engine: ToolHost, h: RunHandle, c: CallState): string[] {
  const tool = engine.agentOf(h.state)?.tools.get(c.call.toolName);
  const parsed = tool?.input.safeParse(c.call.input);
  if (!tool || !parsed?.success) return [];
  const args: unknown = parsed.data;
  const verdict = governCall(engine.opts.policies, tool, policySubject(h.state, tool, args), args);
  return verdict.effect === 'require-approval' ? verdict.reasons : [];
}

/** A shadow run's tool call: served from the live run's record, or denied as a divergence. */
export async function performShadowCall(
  engine: ToolHost,
  h: RunHandle,
  c: CallState,
  attempt: number,
): Promise<void> {
  const liveRunId = h.state.submitted.shadow?.liveRunId ?? '';
  const { callId, toolName } = c.call;
  const reasons = approvalReasons(engine, h, c);
  if (reasons.length > 0)
    h.emit(event('progress', { message: `${SHADOW_APPROVAL_PREFIX}: ${reasons.join('; ')}`, callId }));
  const consumed = await consumedOf(engine, h);
  const input = canonical(c.call.input);
  const match = c.call.argumentsError
    ? undefined
    : recordedCalls(await engine.store.journal.read(liveRunId)).find(
        (r) => r.tool === toolName && r.inputs.has(input) && !consumed.has(servedKey(liveRunId, r.callId)),
      );
  if (!match) {
    const what = toolName === ESCALATE_TOOL ? 'No person was asked' : `${toolName} was not executed`;
    h.emit(
      event('tool.denied', {
        callId,
        tool: toolName,
        reason: 'shadow-divergent',
        message: `${what}: this is a shadow run, and the live run made no identical call (a divergence).`,
      }),
    );
    return;
  }
  const key = servedKey(liveRunId, match.callId);
  servedInClaim.set(h, new Set([...(servedInClaim.get(h) ?? []), key]));
  const occurredAt = engine.store.now();
  h.emit(
    event('tool.started', {
      callId,
      tool: toolName,
      args: c.call.input,
      attempt,
      idempotencyKey: key,
      occurredAt,
    }),
  );
  h.emit(event('tool.succeeded', { callId, tool: toolName, attempt, result: match.result, occurredAt }));
}

/** A shadow run's memory: a copy of what its live run loaded; nothing is persisted. */
export async function shadowMemory(engine: ToolHost, h: RunHandle): Promise<void> {
  const live = await engine.store.journal.read(h.state.submitted.shadow?.liveRunId ?? '');
  const loaded = live.find((e) => e.type === 'memory.loaded');
  h.emit(
    event(
      'memory.loaded',
      loaded?.type === 'memory.loaded'
        ? structuredClone(loaded.data)
        : { turns: 0, tokens: 0, status: 'disabled' },
    ),
  );
}

/** The shadow report of a shadow deployment (DeploymentView.shadow): every shadow run with its live run. */
export async function shadowReportOf(store: Store, deploymentId: string): Promise<ShadowReport> {
  const rows = await store.runs.list({ actorId: shadowActor(deploymentId), limit: 10_000 });
  const sorted = [...rows].sort((a, b) => a.createdAt - b.createdAt || a.runId.localeCompare(b.runId));
  const pairs = await Promise.all(
    sorted.map(async (r) => {
      const shadow = await store.journal.read(r.runId);
      const first = shadow[0];
      const liveRunId = first?.type === 'run.submitted' ? (first.data.shadow?.liveRunId ?? '') : '';
      return { live: await store.journal.read(liveRunId), shadow };
    }),
  );
  return shadowReport(pairs);
}

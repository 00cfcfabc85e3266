/**
 * Tool calls: admission (core/decisions/admission.ts), the `tool.started` bracket before the side effect,
 * retries with backoff, delegation to another agent's queue, and recovery of in-doubt calls.
 */
import { argsDigest } from '../core/audit.ts';
import { decideCall, type BuiltinInputs, type CallDecision } from '../core/decisions/admission.ts';
import { parseTraceparent, toolTraceHeaders, traceIdOf } from '../core/trace-ids.ts';
import type { PolicyDecision } from '../core/policy.ts';
import { admitHistory, releaseHistory } from './history.ts';
import { event } from '../core/events.ts';
import { backoff } from '../core/backoff.ts';
import { toolBudgetError, totalsOf, type CallState } from '../core/run-state.ts';
import { BudgetExceededError, ToolError } from '../core/errors.ts';
import type { AnyTool, ToolContext } from '../core/tool.ts';
import { delegationInput, escalationInput } from './agents.ts';
import { performShadowCall } from './shadow.ts';
import { projectRun, type RunHandle } from './handle.ts';
import { submissionCommit } from './submit.ts';
import type { ToolHost } from './tool-host.ts';

/** JSON-safe copy of a tool result (undefined becomes null; functions and cycles are refused). */
function jsonSafe(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function deny(
  h: RunHandle,
  c: CallState,
  reason: Parameters<typeof event<'tool.denied'>>[1]['reason'],
  message: string,
): void {
  h.emit(event('tool.denied', { callId: c.call.callId, tool: c.call.toolName, reason, message }));
}

/** The built-in tools' input schemas, for admission. */
export const BUILTIN_INPUTS: BuiltinInputs = { delegation: delegationInput, escalation: escalationInput };

/**
 * Validate and perform one model-emitted call. Every call — the agent's tools, `delegate_to_*`
 * and `escalate_to_human` alike — passes the same admission (core/decisions/admission.ts):
 * ownership, shown, validation, policy, approval. Only then is it dispatched.
 */
export async function performCall(
  engine: ToolHost,
  h: RunHandle,
  c: CallState,
  attempt: number,
): Promise<void> {
  // A shadow run executes nothing: every call is intercepted before admission (runtime/shadow.ts).
  if (h.state.submitted.shadow) return performShadowCall(engine, h, c, attempt);
  const agent = engine.agentOf(h.state);
  if (!agent) throw new Error(`run ${h.runId}: unknown agent`);
  const d = await decideCall(
    { agent, state: h.state, call: c, policies: engine.opts.policies, builtins: BUILTIN_INPUTS },
    (subject, approved) => admitHistory(engine, h, c, subject, approved),
  );
  // A call that does not go ahead now holds no reservation (an approval records it when dispatched).
  if ((d.kind === 'deny' && d.reason === 'policy-denied') || d.kind === 'require-approval')
    await releaseHistory(engine, h, c);
  switch (d.kind) {
    case 'deny':
      return deny(h, c, d.reason, d.message);
    case 'require-approval':
      return requestApproval(engine, h, c, d.tool, d.args, d.verdict);
    case 'fail': {
      const error = new BudgetExceededError(d.budget, d.limit, d.used);
      h.emit(
        event('run.failed', { error: engine.errorOf(error), totals: totalsOf(h.state, engine.store.now()) }),
      );
      return;
    }
    case 'run':
      return runTool(engine, h, c, d.tool, d.args, attempt);
    case 'delegate':
      return delegate(engine, h, c, d);
    case 'escalate':
      h.emit(
        event('run.escalated', {
          by: 'agent',
          agent: h.state.agent ?? '',
          callId: c.call.callId,
          summary: d.args.summary,
          reason: d.args.reason,
        }),
      );
  }
}

/** Pause the call for a person: the run then waits on no worker until a decision or the expiry. */
function requestApproval(
  engine: ToolHost,
  h: RunHandle,
  c: CallState,
  tool: Pick<AnyTool, 'name'>,
  args: unknown,
  verdict: PolicyDecision,
): void {
  const now = engine.store.now();
  const approvalId = engine.opts.newId('apr');
  const digest = argsDigest(args);
  const expiresAt = now + engine.opts.approvalTtlMs;
  const requestedBy = h.state.submitted.actorId;
  h.emit(
    event('approval.requested', {
      approvalId,
      callId: c.call.callId,
      tool: tool.name,
      agent: h.state.agent ?? '',
      args,
      argsDigest: digest,
      reasons: verdict.reasons,
      rules: verdict.rules,
      requestedBy,
      expiresAt,
    }),
  );
  h.emit(
    event('progress', {
      message: `Waiting for approval: ${verdict.reasons.join('; ')}`,
      callId: c.call.callId,
    }),
  );
  h.include({
    approvals: [
      {
        approvalId,
        runId: h.runId,
        callId: c.call.callId,
        tool: tool.name,
        agent: h.state.agent ?? '',
        args,
        argsDigest: digest,
        reasons: verdict.reasons,
        requestedBy,
        requestedAt: now,
        expiresAt,
        status: 'pending',
        approver: null,
        comment: null,
        decidedAt: null,
      },
    ],
  });
}

/** The bracket: `tool.started` is committed before the effect, the outcome after it. */
async function runTool(
  engine: ToolHost,
  h: RunHandle,
  c: CallState,
  tool: AnyTool,
  args: unknown,
  attempt: number,
  recovery?: 'in-doubt-rerun' | 'reconciled-not-applied' | 'operator-retry',
): Promise<void> {
  const { callId } = c.call;
  const idempotencyKey = `${h.runId}:${callId}`;
  const breakers = engine.opts.breakers;
  const gate = breakers?.admit(tool.name, engine.store.now());
  if (gate && !gate.allowed) {
    // Fail fast, no effect attempted: the breaker is open after repeated failures.
    const error = {
      name: 'CircuitOpenError',
      code: 'circuit_open',
      message: `${tool.name} is failing repeatedly; its circuit is open until ${new Date(gate.until).toISOString()}`,
    };
    const next = attempt < tool.retry.maxAttempts ? Math.max(gate.until, engine.store.now() + 1) : undefined;
    h.emit(
      event('tool.failed', {
        callId,
        tool: tool.name,
        attempt,
        error,
        retryable: true,
        ...(next !== undefined ? { nextAttemptAt: next } : {}),
      }),
    );
    return;
  }
  if (gate?.change) h.emit(event('breaker.changed', { tool: tool.name, ...gate.change }));
  h.emit(
    event('tool.started', {
      callId,
      tool: tool.name,
      args,
      attempt,
      idempotencyKey,
      ...(recovery ? { recovery } : {}),
      occurredAt: engine.store.now(),
    }),
  );
  if (tool.progress) {
    const message = typeof tool.progress === 'string' ? tool.progress : tool.progress(args);
    h.emit(event('progress', { message, callId }));
  }
  // The durability point before the side effect. A read-only idempotent call without a milestone
  // has no effect to guard and nothing to tell the user yet: its start rides with the next commit
  // (a crash before it re-issues the model call, and reading again is harmless).
  if (!(tool.risk === 'read' && tool.idempotent && !tool.progress)) {
    await h.flush();
    engine.opts.faults.hit('afterToolStartedCommit');
  }
  // The worker's signal: a stopping worker (or one that lost the lease) tells the tool to give up.
  const ctx = toolContext(h, callId, idempotencyKey, attempt, h.signal ?? new AbortController().signal);
  let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, result: jsonSafe(await tool.run(args, ctx)) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  engine.opts.faults.hit('afterToolBeforeJournal');
  // Only failures the tool calls retryable count against its breaker (bad input is not an outage).
  const counts = outcome.ok || !(outcome.error instanceof ToolError) || outcome.error.retryable;
  const change = counts ? breakers?.record(tool.name, outcome.ok, engine.store.now()) : undefined;
  if (change) h.emit(event('breaker.changed', { tool: tool.name, ...change }));
  if (outcome.ok) {
    const occurredAt = engine.store.now();
    h.emit(event('tool.succeeded', { callId, tool: tool.name, attempt, result: outcome.result, occurredAt }));
  } else {
    const retryable = outcome.error instanceof ToolError ? outcome.error.retryable : true;
    const canRetry = retryable && attempt < tool.retry.maxAttempts;
    const nextAttemptAt = canRetry
      ? engine.store.now() + backoff(attempt, tool.retry, engine.opts.random())
      : undefined;
    h.emit(
      event('tool.failed', {
        callId,
        tool: tool.name,
        attempt,
        error: engine.errorOf(outcome.error),
        retryable,
        ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
        occurredAt: engine.store.now(),
      }),
    );
    // Failed for good: it took no effect, so it no longer counts toward policies over history.
    if (nextAttemptAt === undefined) await releaseHistory(engine, h, c);
  }
  // An idempotent tool's outcome rides with the run's next commit: if a crash loses it, the call is
  // in doubt and re-runs with the same key and the same (journaled) arguments — harmless by contract.
  // Any other outcome is committed now, so a crash never leaves a non-idempotent effect in doubt.
  if (tool.idempotent) return;
  await h.flush();
  engine.opts.faults.hit('afterOutcomeCommit');
}

/** The last run's trace id, by its traceparent and run id: a run's tool calls come one after another. */
let lastTrace: { traceparent: unknown; runId: string; traceId: string } | undefined;

/** The trace a run's calls join: its submission's traceparent's, else its own (derived from its id). */
function runTraceId(traceparent: unknown, runId: string): string {
  if (lastTrace?.runId === runId && lastTrace.traceparent === traceparent) return lastTrace.traceId;
  const traceId = parseTraceparent(traceparent)?.traceId ?? traceIdOf(runId);
  lastTrace = { traceparent, runId, traceId };
  return traceId;
}

function toolContext(
  h: RunHandle,
  callId: string,
  idempotencyKey: string,
  attempt: number,
  signal: AbortSignal,
): ToolContext {
  const sub = h.state.submitted;
  return {
    runId: h.runId,
    callId,
    idempotencyKey,
    attempt,
    actorId: sub.actorId,
    sessionId: sub.sessionId,
    agent: h.state.agent ?? '',
    signal,
    traceHeaders: toolTraceHeaders(runTraceId(sub.traceparent, h.runId), h.runId, callId),
    progress: (message) => {
      h.appendNow(event('progress', { message: String(message), callId })).catch(() => {
        // A progress line lost to a lost lease is harmless: the outcome append will fail too.
      });
    },
  };
}

/** Hand a task to another agent: the child run (submitted as any run is) and the parent's wait land in one commit. */
async function delegate(
  engine: ToolHost,
  h: RunHandle,
  c: CallState,
  d: Extract<CallDecision, { kind: 'delegate' }>,
): Promise<void> {
  const sub = h.state.submitted;
  const budget = sub.budget;
  const childRunId = engine.opts.newId('run');
  const { task, context = {} } = d.args;
  h.emit(
    event('delegation.requested', { callId: c.call.callId, childRunId, agent: d.target, task, context }),
  );
  const input = Object.keys(context).length ? `${task}\n\nContext: ${JSON.stringify(context)}` : task;
  const now = engine.store.now();
  const child = submissionCommit(
    childRunId,
    {
      actorId: sub.actorId,
      sessionId: sub.sessionId,
      input,
      channel: 'delegation',
      agent: d.target,
      parentRunId: h.runId,
      parentCallId: c.call.callId,
      lineage: d.lineage,
      depth: d.depth,
      ...(sub.role !== undefined ? { role: sub.role } : {}),
      // The child's end wakes this run on its own version's queue.
      ...(h.state.version !== undefined ? { parentVersion: h.state.version } : {}),
      // The child's trace continues under the delegating call's span.
      traceparent: toolTraceHeaders(runTraceId(sub.traceparent, h.runId), h.runId, c.call.callId).traceparent,
      budget: {
        ...engine.budgetFor(d.target),
        maxDelegationDepth: budget.maxDelegationDepth,
        deadlineMs: budget.deadlineMs,
      },
    },
    now,
    // Delegated runs bypass session order (the parent holds the session's slot). The child follows
    // its own agent's alias: routed first when that agent has labeled versions.
    { queue: await engine.selection.entryQueue(d.target) },
  );
  h.include(child);
  await h.flush();
  engine.opts.faults.hit('afterDelegationCommit');
}

/**
 * A started call whose outcome was never recorded: the process died between the effect and the
 * journal. Idempotent tools run again with the same key; others ask `reconcile(key)`; otherwise the
 * run pauses for a person — never a silent second effect.
 */
export async function performInDoubt(engine: ToolHost, h: RunHandle, c: CallState): Promise<void> {
  const agent = engine.agentOf(h.state);
  const tool = agent?.tools.get(c.call.toolName);
  const key = `${h.runId}:${c.call.callId}`;
  const parsed = tool?.input.safeParse(c.call.input);
  const attention = (reason: string): Promise<void> => {
    h.emit(
      event('run.needs_attention', {
        callId: c.call.callId,
        tool: c.call.toolName,
        idempotencyKey: key,
        reason,
      }),
    );
    return h.flush({ deleteTasks: [h.runId] }).then(() => undefined);
  };
  if (!tool || !parsed?.success)
    return attention(`tool ${c.call.toolName} is no longer available to resolve an in-doubt call`);
  // A re-run is an execution like any other: it draws from the run's tool budget, so a run that
  // keeps failing after its tool ran can never execute it past the limit.
  const budget = h.state.submitted.budget;
  const spent = h.state.toolCalls >= budget.maxToolCalls;
  const overBudget = `${tool.name} was started but its outcome was not recorded, and the run has used its tool budget (maxToolCalls ${budget.maxToolCalls}, used ${h.state.toolCalls}): it is not run again. Check whether it took effect (key ${key}), then resolve the run as succeeded or failed.`;
  if (tool.idempotent) {
    if (spent) return attention(overBudget);
    return runTool(engine, h, c, tool, parsed.data, c.attempt, 'in-doubt-rerun');
  }
  if (tool.reconcile) {
    const ctx = toolContext(h, c.call.callId, key, c.attempt, new AbortController().signal);
    const r = await tool.reconcile(key, ctx);
    if (r.status === 'applied') {
      h.emit(
        event('tool.succeeded', {
          callId: c.call.callId,
          tool: tool.name,
          attempt: c.attempt,
          result: jsonSafe(r.result),
          reconciled: true,
        }),
      );
      await h.flush();
      return;
    }
    if (spent) {
      // Nothing is in doubt any more (the tool says it did not happen), and nothing may run: the run ends.
      h.emit(
        event('run.failed', {
          error: toolBudgetError(h.state, budget),
          totals: totalsOf(h.state, engine.store.now()),
        }),
      );
      return;
    }
    return runTool(engine, h, c, tool, parsed.data, c.attempt, 'reconciled-not-applied');
  }
  return attention(
    `${tool.name} was started but its outcome was not recorded; it is not idempotent and has no reconcile hook. Check whether it took effect (key ${key}), then resolve the run as succeeded, failed or retry.`,
  );
}

export { projectRun };

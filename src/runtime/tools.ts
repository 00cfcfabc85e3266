/**
 * Tool calls: permission and argument checks, the `tool.started` bracket before the side effect,
 * retries with backoff, delegation to another agent's queue, and recovery of in-doubt calls.
 */
import { z } from 'zod';
import { argsDigest } from '../core/audit.ts';
import { parseTraceparent, toolTraceHeaders, traceIdOf } from '../core/trace-ids.ts';
import { evaluatePolicies, type PolicyDecision, type PolicySubject } from '../core/policy.ts';
import { admitHistory, releaseHistory } from './history.ts';
import { event } from '../core/events.ts';
import { backoffDelay, toolBudgetError, totalsOf, type CallState } from '../core/run-state.ts';
import { BudgetExceededError, ToolError } from '../core/errors.ts';
import type { AnyTool, ToolContext } from '../core/tool.ts';
import { delegationInput, escalationInput } from './agents.ts';
import { ESCALATE_TOOL } from '../core/agent.ts';
import type { AgentRuntime } from './agents.ts';
import { performShadowCall } from './shadow.ts';
import type { Engine } from './engine.ts';
import { projectRun, type RunHandle } from './handle.ts';
import { initialState } from '../core/run-state.ts';
import { EVENT_SCHEMA_VERSION } from '../core/events.ts';
import { argumentsDenial } from './tool-args.ts';

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

/** What a call turned out to be once admitted: a tool of the agent, a delegation or an escalation. */
type Admitted =
  | { kind: 'tool'; tool: AnyTool; args: unknown }
  | { kind: 'delegate'; target: string; args: z.infer<typeof delegationInput> }
  | { kind: 'escalate'; args: z.infer<typeof escalationInput> };

/**
 * Ownership, shown and validation — the same for every call, built-in or not. Returns the denial
 * to journal, or what the call is. Built-in tools (delegation, escalation) have no side effect of
 * their own and are governed with risk `read`; a rule keyed on their name or agent still matches.
 */
function admit(
  agent: AgentRuntime,
  h: RunHandle,
  c: CallState,
): Admitted | { kind: 'denied'; reason: 'not-permitted' | 'invalid-arguments'; message: string } {
  const name = c.call.toolName;
  // Only tools shown at this step may run: retrieval narrows permission, not just the prompt.
  const shown = h.state.shownTools;
  const visible = !shown || shown.includes(name);
  const target = agent.delegates.get(name);
  const tool = agent.tools.get(name);
  const owned =
    tool !== undefined || target !== undefined || (name === ESCALATE_TOOL && agent.def.escalation);
  if (!owned || !visible) {
    const available = (shown ?? [...agent.tools.keys(), ...agent.delegates.keys()]).join(', ');
    const why = owned ? 'was not shown at this step' : `is not available to agent "${agent.name}"`;
    return {
      kind: 'denied',
      reason: 'not-permitted',
      message: `Tool "${name}" ${why}. Available: ${available}.`,
    };
  }
  if (c.call.argumentsError)
    return {
      kind: 'denied',
      reason: 'invalid-arguments',
      message: argumentsDenial(c.call, c.call.argumentsError),
    };
  const schema = tool ? tool.input : target !== undefined ? delegationInput : escalationInput;
  const parsed = schema.safeParse(c.call.input);
  if (!parsed.success) {
    return {
      kind: 'denied',
      reason: 'invalid-arguments',
      message: `Invalid arguments for ${name}: ${z.prettifyError(parsed.error)}`,
    };
  }
  if (tool) return { kind: 'tool', tool, args: parsed.data };
  if (target !== undefined)
    return { kind: 'delegate', target, args: parsed.data as z.infer<typeof delegationInput> };
  return { kind: 'escalate', args: parsed.data as z.infer<typeof escalationInput> };
}

/** The governed view of an admitted call: name, risk and the tool's own approval rule. */
function governedOf(
  name: string,
  a: Admitted,
): Pick<AnyTool, 'name' | 'risk' | 'requiresApproval' | 'policyArgs'> {
  return a.kind === 'tool' ? a.tool : { name, risk: 'read' };
}

/**
 * Validate and perform one model-emitted call. Every call — the agent's tools, `delegate_to_*`
 * and `escalate_to_human` alike — passes the same admission: ownership, shown, validation,
 * policy, approval. Only then is it dispatched.
 */
export async function performCall(
  engine: Engine,
  h: RunHandle,
  c: CallState,
  attempt: number,
): Promise<void> {
  // A shadow run executes nothing: every call is intercepted before admission (runtime/shadow.ts).
  if (h.state.submitted.shadow) return performShadowCall(engine, h, c, attempt);
  const agent = engine.agentOf(h.state);
  if (!agent) throw new Error(`run ${h.runId}: unknown agent`);
  const name = c.call.toolName;
  const admitted = admit(agent, h, c);
  if (admitted.kind === 'denied') return deny(h, c, admitted.reason, admitted.message);
  if (c.approved === true) {
    // Bound to the exact arguments: if they would differ from what was approved, the approval is void.
    if (argsDigest(admitted.args) !== c.argsDigest) {
      return deny(
        h,
        c,
        'approval-void',
        `The approval for ${name} was for different arguments; the call was not made.`,
      );
    }
    // An approved call counts toward the history rules that cover it.
    await admitHistory(engine, h, c, subjectOf(h, governedOf(name, admitted), admitted.args), true);
    return dispatch(engine, h, c, admitted, attempt);
  }
  const governed = governedOf(name, admitted);
  const subject = subjectOf(h, governed, admitted.args);
  const hits = await admitHistory(engine, h, c, subject, false);
  const verdict = governance(engine, h, governed, subject, hits, admitted.args);
  // A call that does not go ahead now holds no reservation (an approval records it when dispatched).
  if (verdict.effect !== 'allow') await releaseHistory(engine, h, c);
  if (verdict.effect === 'deny') {
    return deny(h, c, 'policy-denied', `Policy refused ${name}: ${verdict.reasons.join('; ')}.`);
  }
  if (verdict.effect === 'require-approval')
    return requestApproval(engine, h, c, governed, admitted.args, verdict);
  await dispatch(engine, h, c, admitted, attempt);
}

/** Perform an admitted, permitted call. */
async function dispatch(
  engine: Engine,
  h: RunHandle,
  c: CallState,
  a: Admitted,
  attempt: number,
): Promise<void> {
  if (a.kind === 'tool') return runTool(engine, h, c, a.tool, a.args, attempt);
  if (a.kind === 'delegate') return delegate(engine, h, c, a.target, a.args);
  h.emit(
    event('run.escalated', {
      by: 'agent',
      agent: h.state.agent ?? '',
      callId: c.call.callId,
      summary: a.args.summary,
      reason: a.args.reason,
    }),
  );
}

/** What policies see of a call: the tool, the agent, the arguments and the run's facts. */
function subjectOf(
  h: RunHandle,
  tool: Pick<AnyTool, 'name' | 'risk' | 'policyArgs'>,
  args: unknown,
): PolicySubject {
  const sub = h.state.submitted;
  const facts = tool.policyArgs?.(args);
  return {
    tool: tool.name,
    risk: tool.risk,
    agent: h.state.agent ?? '',
    args: facts && args !== null && typeof args === 'object' ? { ...args, ...facts } : args,
    actorId: sub.actorId,
    ...(sub.role !== undefined ? { role: sub.role } : {}),
    ...(h.state.routeConfidence !== undefined ? { routingConfidence: h.state.routeConfidence } : {}),
  };
}

/** Policy rules plus the tool's own `requiresApproval`, evaluated outside the model. */
function governance(
  engine: Engine,
  h: RunHandle,
  tool: Pick<AnyTool, 'name' | 'risk' | 'requiresApproval' | 'policyArgs'>,
  subject: PolicySubject,
  historyHits: ReadonlyMap<string, string>,
  args: unknown,
): PolicyDecision {
  const { agent } = subject;
  const verdict = evaluatePolicies(engine.opts.policies, subject, historyHits);
  if (verdict.effect === 'deny') return verdict;
  const own = tool.requiresApproval?.(args, { actorId: h.state.submitted.actorId, agent });
  if (own) {
    return {
      effect: 'require-approval',
      reasons: [
        ...verdict.reasons.filter(() => verdict.effect === 'require-approval'),
        typeof own === 'string' ? own : `${tool.name} requires approval`,
      ],
      rules: [...(verdict.effect === 'require-approval' ? verdict.rules : []), 'tool:requiresApproval'],
    };
  }
  return verdict;
}

/** Pause the call for a person: the run then waits on no worker until a decision or the expiry. */
function requestApproval(
  engine: Engine,
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
  engine: Engine,
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
      ? engine.store.now() + backoffDelay(attempt, tool.retry, engine.opts.random())
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
    traceHeaders: toolTraceHeaders(
      parseTraceparent(sub.traceparent)?.traceId ?? traceIdOf(h.runId),
      h.runId,
      callId,
    ),
    progress: (message) => {
      h.appendNow(event('progress', { message: String(message), callId })).catch(() => {
        // A progress line lost to a lost lease is harmless: the outcome append will fail too.
      });
    },
  };
}

/** Hand a task to another agent: the child run and the parent's wait land in one commit. */
async function delegate(
  engine: Engine,
  h: RunHandle,
  c: CallState,
  target: string,
  args: z.infer<typeof delegationInput>,
): Promise<void> {
  const sub = h.state.submitted;
  const current = h.state.agent ?? '';
  const lineage = [...sub.lineage, current];
  if (lineage.includes(target)) {
    return deny(
      h,
      c,
      'delegation-cycle',
      `Delegating to "${target}" would form a cycle (${[...lineage, target].join(' → ')}).`,
    );
  }
  const budget = engine.budgetOf(h.state);
  const depth = sub.depth + 1;
  if (depth > budget.maxDelegationDepth) {
    const error = new BudgetExceededError('maxDelegationDepth', budget.maxDelegationDepth, depth);
    h.emit(
      event('run.failed', { error: engine.errorOf(error), totals: totalsOf(h.state, engine.store.now()) }),
    );
    return;
  }
  const childRunId = engine.opts.newId('run');
  const { task, context = {} } = args;
  h.emit(event('delegation.requested', { callId: c.call.callId, childRunId, agent: target, task, context }));
  const input = Object.keys(context).length ? `${task}\n\nContext: ${JSON.stringify(context)}` : task;
  const submitted = event('run.submitted', {
    actorId: sub.actorId,
    sessionId: sub.sessionId,
    input,
    channel: 'delegation',
    agent: target,
    parentRunId: h.runId,
    parentCallId: c.call.callId,
    lineage,
    depth,
    ...(sub.role !== undefined ? { role: sub.role } : {}),
    // The child's end wakes this run on its own version's queue.
    ...(h.state.version !== undefined ? { parentVersion: h.state.version } : {}),
    // The child's trace continues under the delegating call's span.
    traceparent: toolTraceHeaders(
      parseTraceparent(sub.traceparent)?.traceId ?? traceIdOf(h.runId),
      h.runId,
      c.call.callId,
    ).traceparent,
    budget: {
      ...engine.budgetFor(target),
      maxDelegationDepth: budget.maxDelegationDepth,
      deadlineMs: budget.deadlineMs,
    },
  });
  const now = engine.store.now();
  const childState = initialState({
    runId: childRunId,
    seq: 1,
    at: now,
    v: EVENT_SCHEMA_VERSION,
    ...submitted,
  });
  h.include({
    appends: [{ runId: childRunId, expectedSeq: 1, events: [submitted] }],
    // The child follows its own agent's alias: routed first when that agent has labeled versions.
    upsertTasks: [{ runId: childRunId, queue: await engine.selection.entryQueue(target), readyAt: now }],
    projection: [projectRun(childState)],
  });
  await h.flush();
  engine.opts.faults.hit('afterDelegationCommit');
}

/**
 * A started call whose outcome was never recorded: the process died between the effect and the
 * journal. Idempotent tools run again with the same key; others ask `reconcile(key)`; otherwise the
 * run pauses for a person — never a silent second effect.
 */
export async function performInDoubt(engine: Engine, h: RunHandle, c: CallState): Promise<void> {
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
  const budget = engine.budgetOf(h.state);
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

/**
 * A run's state is a pure fold of its journal. Nothing about a run is stored beside the journal
 * (the runs projection is rebuilt from this fold), so this file is the one definition of "where a
 * run is". The fold is incremental: `applyEvent` mutates a state in place so a worker can keep the
 * state it last folded and apply only newer events.
 */
import type { Budget } from './budget.ts';
import type {
  ErrorData,
  EventOf,
  EventPayloads,
  JournalEvent,
  MemoryContextData,
  ToolCallData,
  Totals,
} from './events.ts';

export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'needs_attention',
  'escalated',
  'completed',
  'failed',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses in which a run does nothing more. `escalated` waits for a person outside the run. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
  'escalated',
]);

/** One entry of the conversation the model sees. */
export type Turn =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCallData[] }
  | { role: 'tool'; callId: string; toolName: string; output: ToolOutput };

export type ToolOutput =
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; message: string }
  | { kind: 'denied'; message: string };

/** Where one model-emitted tool call stands. */
export interface CallState {
  call: ToolCallData;
  phase: 'pending' | 'started' | 'retry-wait' | 'delegated' | 'awaiting-approval' | 'done';
  attempt: number;
  nextAttemptAt?: number;
  childRunId?: string;
  approvalId?: string;
  approvalExpiresAt?: number;
  approvalRequestedAt?: number;
  argsDigest?: string;
  approved?: boolean;
}

export interface RunState {
  runId: string;
  seq: number;
  status: RunStatus;
  submitted: EventPayloads['run.submitted'];
  createdAt: number;
  updatedAt: number;
  agent?: string;
  /** The labeled version the run runs on: the submission's pin, else the routing's pick. */
  version?: string;
  agentStarted: boolean;
  turns: Turn[];
  /** Tool calls of the latest model response, in the order they run. */
  calls: CallState[];
  /** True when the latest model response had no tool calls: the run's answer is ready. */
  answered: boolean;
  steps: number;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  retries: number;
  /** Time spent waiting for people (approvals): not charged to the run's deadline. */
  humanWaitMs: number;
  output?: string;
  error?: ErrorData;
  attention?: EventPayloads['run.needs_attention'];
  escalation?: { reason: string; summary?: string; by: string };
  /** A delegated run escalated to people: once this step's calls are done, this run escalates too. */
  childEscalation?: { reason: string; summary: string; agent?: string };
  /** Tools shown to the model at its latest step: a call to any other tool is refused. */
  shownTools?: string[];
  /** The router's confidence when it chose the agent (policies may key on it). */
  routeConfidence?: number;
  /** What memory injected at the agent's start (turns are also in `turns`). */
  memory?: MemoryContextData;
}

/** Start a fold from a run's first event. */
export function initialState(first: JournalEvent): RunState {
  if (first.type !== 'run.submitted' || first.seq !== 1) {
    throw new Error(`run ${first.runId}: journal must start with run.submitted at seq 1, got ${first.type}`);
  }
  return {
    runId: first.runId,
    seq: 1,
    status: 'queued',
    submitted: first.data,
    createdAt: first.at,
    updatedAt: first.at,
    agentStarted: false,
    turns: [{ role: 'user', text: first.data.input }],
    calls: [],
    answered: false,
    steps: 0,
    modelCalls: 0,
    toolCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    retries: 0,
    humanWaitMs: 0,
    ...(first.data.version !== undefined ? { version: first.data.version } : {}),
  };
}

/** Fold a whole journal. */
export function foldRun(events: readonly JournalEvent[]): RunState {
  const first = events[0];
  if (!first) throw new Error('cannot fold an empty journal');
  const state = initialState(first);
  for (let i = 1; i < events.length; i++) applyEvent(state, events[i]!);
  return state;
}

const findCall = (state: RunState, callId: string): CallState | undefined =>
  state.calls.find((c) => c.call.callId === callId);

function requireCall(state: RunState, callId: string, type: string): CallState {
  const call = findCall(state, callId);
  if (!call) throw new Error(`run ${state.runId}: ${type} for unknown call ${callId}`);
  return call;
}

function finishCall(state: RunState, c: CallState, output: ToolOutput): void {
  c.phase = 'done';
  state.turns.push({ role: 'tool', callId: c.call.callId, toolName: c.call.toolName, output });
}

type RoutingEvent = EventOf<
  'route.decided' | 'route.escalated' | 'run.escalated' | 'run.reopened' | 'agent.started'
>;
type ModelEvent = EventOf<'model.requested' | 'model.responded' | 'model.retried' | 'memory.loaded'>;
type ToolEvent = EventOf<'tool.started' | 'tool.succeeded' | 'tool.failed' | 'tool.denied' | 'run.resumed'>;
type WaitEvent = EventOf<
  'approval.requested' | 'approval.decided' | 'delegation.requested' | 'delegation.completed'
>;

/** Apply one event in place. Events must arrive in seq order. */
export function applyEvent(state: RunState, e: JournalEvent): RunState {
  if (e.seq !== state.seq + 1) {
    throw new Error(`run ${state.runId}: expected seq ${state.seq + 1}, got ${e.seq}`);
  }
  state.seq = e.seq;
  state.updatedAt = e.at;
  switch (e.type) {
    case 'run.submitted':
      throw new Error(`run ${state.runId}: run.submitted may only be the first event`);
    case 'route.decided':
    case 'route.escalated':
    case 'run.escalated':
    case 'run.reopened':
    case 'agent.started':
      applyRouting(state, e);
      break;
    case 'model.requested':
    case 'model.responded':
    case 'model.retried':
    case 'memory.loaded':
      applyModel(state, e);
      break;
    case 'tool.started':
    case 'tool.succeeded':
    case 'tool.failed':
    case 'tool.denied':
    case 'run.resumed':
      applyTool(state, e);
      break;
    case 'run.needs_attention':
      state.attention = e.data;
      state.status = 'needs_attention';
      break;
    case 'approval.requested':
    case 'approval.decided':
    case 'delegation.requested':
    case 'delegation.completed':
      applyWait(state, e);
      break;
    case 'run.completed':
      state.status = 'completed';
      state.output = e.data.output;
      break;
    case 'run.failed':
      state.status = 'failed';
      state.error = e.data.error;
      break;
    case 'run.cancelled':
      state.status = 'cancelled';
      break;
    case 'approval.refused':
    case 'breaker.changed':
    case 'run.redacted':
    case 'tools.retrieved':
    case 'memory.persisted':
    case 'memory.failed':
    case 'progress':
      break;
  }
  return state;
}

/** Which agent runs the run, and its hand-offs to people and back. */
function applyRouting(state: RunState, e: RoutingEvent): void {
  switch (e.type) {
    case 'route.decided':
      state.agent = e.data.agent;
      if (e.data.version !== undefined) state.version = e.data.version;
      state.routeConfidence = e.data.confidence;
      state.status = 'running';
      break;
    case 'route.escalated':
      state.escalation = { reason: e.data.reason, by: 'router' };
      state.status = 'escalated';
      break;
    case 'run.escalated': {
      state.escalation = { reason: e.data.reason, summary: e.data.summary, by: e.data.by };
      state.status = 'escalated';
      delete state.childEscalation;
      const c = e.data.callId ? findCall(state, e.data.callId) : undefined;
      if (c) finishCall(state, c, { kind: 'result', value: 'Handed to a person.' });
      break;
    }
    case 'run.reopened':
      delete state.escalation;
      state.status = 'running';
      if (e.data.agent !== undefined && state.agent === undefined) {
        state.agent = e.data.agent;
        state.routeConfidence = 1;
      }
      if (e.data.note) state.turns.push({ role: 'user', text: `Note from ${e.data.by}: ${e.data.note}` });
      // An agent that escalated gets another step with the note; its open calls were settled.
      state.answered = false;
      break;
    case 'agent.started':
      state.agent = e.data.agent;
      state.agentStarted = true;
      state.status = 'running';
      break;
  }
}

/** The model's steps and what memory put in front of it. */
function applyModel(state: RunState, e: ModelEvent): void {
  switch (e.type) {
    case 'model.requested':
      state.status = 'running';
      state.shownTools = e.data.tools;
      break;
    case 'model.responded':
      state.steps += 1;
      state.modelCalls += 1;
      state.inputTokens += e.data.usage.inputTokens;
      state.outputTokens += e.data.usage.outputTokens;
      state.turns.push({ role: 'assistant', text: e.data.text, toolCalls: e.data.toolCalls });
      state.calls = e.data.toolCalls.map((call) => ({ call, phase: 'pending', attempt: 0 }));
      state.answered = e.data.toolCalls.length === 0;
      break;
    case 'model.retried':
      state.retries += 1;
      break;
    case 'memory.loaded':
      if (e.data.context) {
        state.memory = e.data.context;
        // Earlier turns of the session go before this run's own conversation.
        const earlier: Turn[] = e.data.context.turns.map((t) =>
          t.role === 'user'
            ? { role: 'user', text: t.text }
            : { role: 'assistant', text: t.text, toolCalls: [] },
        );
        state.turns = [...earlier, ...state.turns];
      }
      break;
  }
}

/** A tool call's executions, their outcomes, and an operator's resolution of one in doubt. */
function applyTool(state: RunState, e: ToolEvent): void {
  const c = requireCall(state, e.data.callId, e.type);
  switch (e.type) {
    case 'tool.started':
      c.phase = 'started';
      c.attempt = e.data.attempt;
      delete c.nextAttemptAt;
      state.toolCalls += 1;
      if (e.data.attempt > 1 && !e.data.recovery) state.retries += 1;
      state.status = 'running';
      break;
    case 'tool.succeeded':
      finishCall(state, c, { kind: 'result', value: e.data.result });
      break;
    case 'tool.failed':
      if (e.data.nextAttemptAt !== undefined) {
        c.phase = 'retry-wait';
        c.nextAttemptAt = e.data.nextAttemptAt;
      } else {
        finishCall(state, c, { kind: 'error', message: e.data.error.message });
      }
      break;
    case 'tool.denied':
      finishCall(state, c, { kind: 'denied', message: e.data.message });
      break;
    case 'run.resumed':
      delete state.attention;
      state.status = 'running';
      if (e.data.resolution === 'succeeded') finishCall(state, c, { kind: 'result', value: e.data.result });
      else if (e.data.resolution === 'failed') {
        finishCall(state, c, { kind: 'error', message: e.data.message ?? 'failed (resolved by operator)' });
      } else c.phase = 'pending';
      break;
  }
}

/** A call that waits on people (an approval) or on another run (a delegation). */
function applyWait(state: RunState, e: WaitEvent): void {
  const c = requireCall(state, e.data.callId, e.type);
  switch (e.type) {
    case 'approval.requested':
      c.phase = 'awaiting-approval';
      c.approvalId = e.data.approvalId;
      c.approvalExpiresAt = e.data.expiresAt;
      c.approvalRequestedAt = e.at;
      c.argsDigest = e.data.argsDigest;
      state.status = 'waiting';
      break;
    case 'approval.decided': {
      const approved =
        e.data.decision === 'approved' || (e.data.decision === 'expired' && e.data.outcome === 'approved');
      state.humanWaitMs += Math.max(0, e.at - (c.approvalRequestedAt ?? e.at));
      state.status = 'running';
      if (approved) {
        c.approved = true;
        c.phase = 'pending';
      } else {
        c.approved = false;
        const why =
          e.data.decision === 'expired'
            ? 'The approval request expired without a decision; the call was not made.'
            : `Rejected by approver ${e.data.approver}${e.data.comment ? `: ${e.data.comment}` : ''}. The call was not made.`;
        finishCall(state, c, { kind: 'denied', message: why });
      }
      break;
    }
    case 'delegation.requested':
      c.phase = 'delegated';
      c.childRunId = e.data.childRunId;
      state.status = 'waiting';
      break;
    case 'delegation.completed':
      applyDelegationCompleted(state, c, e.data);
      break;
  }
}

/** A child run ended: its output or error is the call's result; an escalated child escalates this run later. */
function applyDelegationCompleted(
  state: RunState,
  c: CallState,
  data: EventPayloads['delegation.completed'],
): void {
  if (data.status === 'completed') {
    finishCall(state, c, { kind: 'result', value: data.output ?? '' });
  } else {
    finishCall(state, c, {
      kind: 'error',
      message: `delegated run ${data.status}${data.error ? ` (${data.error.name})` : ''}: ${data.error?.message ?? 'no output'}`,
    });
  }
  if (data.error?.code === 'escalated') {
    const d = data.error.details ?? {};
    state.childEscalation = {
      reason: data.error.message,
      summary: typeof d.summary === 'string' ? d.summary : data.error.message,
      ...(typeof d.agent === 'string' ? { agent: d.agent } : {}),
    };
  }
  if (!TERMINAL_STATUSES.has(state.status)) state.status = 'running';
}

/** The run's totals at time `now`. */
export function totalsOf(state: RunState, now: number): Totals {
  return {
    steps: state.steps,
    modelCalls: state.modelCalls,
    toolCalls: state.toolCalls,
    inputTokens: state.inputTokens,
    outputTokens: state.outputTokens,
    costUsd: state.costUsd,
    durationMs: Math.max(0, now - state.createdAt),
  };
}

/** What the engine should do next for a run. Pure: the caller supplies the clock and budget. */
export type NextAction =
  | { kind: 'none'; reason: 'terminal' | 'waiting' | 'needs_attention' }
  | { kind: 'route' }
  | { kind: 'start-agent' }
  | { kind: 'model' }
  | { kind: 'complete'; output: string }
  | { kind: 'call'; call: CallState; attempt: number }
  | { kind: 'in-doubt'; call: CallState }
  | { kind: 'sleep'; until: number }
  | { kind: 'expire-approval'; call: CallState }
  | { kind: 'escalate'; reason: string; summary: string; agent?: string }
  | { kind: 'fail'; error: ErrorData };

const budgetError = (budget: string, limit: number, used: number): ErrorData => ({
  name: 'BudgetExceededError',
  code: 'budget_exceeded',
  message: `budget exceeded: ${budget} limit ${limit}, used ${used}`,
  details: { budget, limit, used },
});

/**
 * The error of a run whose every tool execution (first attempts, retries and recovery re-runs:
 * every `tool.started`) has used up `maxToolCalls`. The engine checks it before an in-doubt re-run too.
 */
export const toolBudgetError = (state: RunState, budget: Budget): ErrorData =>
  budgetError('maxToolCalls', budget.maxToolCalls, state.toolCalls);

/**
 * Decide the one next action. Budgets are checked here so that a run stops exactly at a limit:
 * the action that would exceed it is never taken.
 */
export function decide(state: RunState, now: number, budget: Budget): NextAction {
  if (TERMINAL_STATUSES.has(state.status)) return { kind: 'none', reason: 'terminal' };
  if (state.status === 'needs_attention') return { kind: 'none', reason: 'needs_attention' };
  const waiting = state.calls.some((c) => c.phase === 'awaiting-approval');
  const elapsed = now - state.createdAt - state.humanWaitMs;
  if (!waiting && elapsed > budget.deadlineMs) {
    return { kind: 'fail', error: budgetError('deadlineMs', budget.deadlineMs, elapsed) };
  }
  const tokens = state.inputTokens + state.outputTokens;
  if (tokens > budget.maxTokens)
    return { kind: 'fail', error: budgetError('maxTokens', budget.maxTokens, tokens) };
  if (state.agent === undefined) return { kind: 'route' };
  if (!state.agentStarted) return { kind: 'start-agent' };
  for (const c of state.calls) {
    switch (c.phase) {
      case 'done':
        continue;
      case 'delegated':
        return { kind: 'none', reason: 'waiting' };
      case 'awaiting-approval':
        // Waits on no worker: the only wake-up is the approval's expiry (or its decision).
        if (c.approvalExpiresAt === undefined) return { kind: 'none', reason: 'waiting' };
        if (now >= c.approvalExpiresAt) return { kind: 'expire-approval', call: c };
        return { kind: 'sleep', until: c.approvalExpiresAt };
      case 'started':
        // The outcome of a started call was never recorded: the process died mid-call.
        return { kind: 'in-doubt', call: c };
      case 'retry-wait':
      case 'pending':
        if (c.phase === 'retry-wait' && c.nextAttemptAt !== undefined && now < c.nextAttemptAt)
          return { kind: 'sleep', until: c.nextAttemptAt };
        // A retry is an execution like the first attempt and draws from the same budget.
        if (state.toolCalls >= budget.maxToolCalls)
          return { kind: 'fail', error: toolBudgetError(state, budget) };
        return { kind: 'call', call: c, attempt: c.attempt + 1 };
    }
  }
  // A person now owns what the delegated run was for: the model is not asked to carry on without it.
  if (state.childEscalation) return { kind: 'escalate', ...state.childEscalation };
  if (state.answered) {
    const last = state.turns.at(-1);
    return { kind: 'complete', output: last?.role === 'assistant' ? last.text : '' };
  }
  if (state.steps >= budget.maxSteps)
    return { kind: 'fail', error: budgetError('maxSteps', budget.maxSteps, state.steps) };
  if (state.modelCalls >= budget.maxModelCalls) {
    return { kind: 'fail', error: budgetError('maxModelCalls', budget.maxModelCalls, state.modelCalls) };
  }
  if (tokens >= budget.maxTokens)
    return { kind: 'fail', error: budgetError('maxTokens', budget.maxTokens, tokens) };
  return { kind: 'model' };
}

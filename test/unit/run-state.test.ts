/**
 * The pure core on its own, without a store: the fold of a run's journal (`foldRun` /
 * `applyEvent`, one case or more for every event type) and `decide`, the one next action
 * (every kind it returns, each budget at its limit and one over, in-doubt calls, retries,
 * approvals, delegations, cancellation, needs_attention and its resolution).
 */
import { backoff } from '../../src/core/backoff.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_BUDGET, type Budget } from '../../src/core/budget.ts';
import {
  EVENT_SCHEMA_VERSION,
  event,
  type ErrorData,
  type EventPayloads,
  type EventType,
  type JournalEvent,
  type NewEvent,
  type ToolCallData,
} from '../../src/core/events.ts';
import {
  applyEvent,
  decide,
  foldRun,
  initialState,
  TERMINAL_STATUSES,
  totalsOf,
  type RunState,
} from '../../src/core/run-state.ts';

const T0 = 1_000_000;
const RUN = 'run_1';

/** An event to append, at a given time (else 1 ms after the previous one). */
type Step = NewEvent & { at?: number };

const ev = <T extends EventType>(type: T, data: EventPayloads[T], at?: number): Step => ({
  ...event(type, data),
  ...(at !== undefined ? { at } : {}),
});

const submission = (extra: Partial<EventPayloads['run.submitted']> = {}): EventPayloads['run.submitted'] => ({
  actorId: 'user_1',
  sessionId: 'session_1',
  input: 'Where is my order?',
  channel: 'api',
  lineage: [],
  depth: 0,
  budget: DEFAULT_BUDGET,
  ...extra,
});

/** The journal of a run submitted at T0 followed by `steps`, seq dense from 1. */
function journal(steps: Step[], submitted = submission()): JournalEvent[] {
  const events: JournalEvent[] = [
    { runId: RUN, seq: 1, at: T0, v: EVENT_SCHEMA_VERSION, type: 'run.submitted', data: submitted },
  ];
  let at = T0;
  for (const { at: when, ...e } of steps) {
    at = when ?? at + 1;
    events.push({ runId: RUN, seq: events.length + 1, at, v: EVENT_SCHEMA_VERSION, ...e });
  }
  return events;
}

const fold = (steps: Step[], submitted?: EventPayloads['run.submitted']): RunState =>
  foldRun(journal(steps, submitted));

/** Append `steps` to a folded state in place, continuing its seq and clock. */
function apply(state: RunState, steps: Step[]): RunState {
  let at = state.updatedAt;
  for (const { at: when, ...e } of steps) {
    at = when ?? at + 1;
    applyEvent(state, { runId: RUN, seq: state.seq + 1, at, v: EVENT_SCHEMA_VERSION, ...e });
  }
  return state;
}

const call = (callId: string, toolName = 'lookup_order'): ToolCallData => ({
  callId,
  modelCallId: `model_${callId}`,
  toolName,
  input: { orderId: 'A-1' },
});

const error = (message = 'boom', extra: Partial<ErrorData> = {}): ErrorData => ({
  name: 'ToolError',
  code: 'tool_error',
  message,
  ...extra,
});

const totals = {
  steps: 1,
  modelCalls: 1,
  toolCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  durationMs: 1,
};

// Payload builders for the events most cases need.
const routed = (agent = 'support', extra: Partial<EventPayloads['route.decided']> = {}) =>
  ev('route.decided', {
    agent,
    method: 'semantic',
    confidence: 0.9,
    reason: 'best fit',
    candidates: [],
    ...extra,
  });
const agentStarted = (agent = 'support') => ev('agent.started', { agent, version: 'sha-1' });
const requested = (tools: string[] = ['lookup_order']) =>
  ev('model.requested', { modelId: 'm', provider: 'scripted', tools, messages: 1 });
const responded = (text: string, toolCalls: ToolCallData[] = [], tokens: [number, number] = [10, 5]) =>
  ev('model.responded', {
    modelId: 'm',
    text,
    toolCalls,
    usage: { inputTokens: tokens[0], outputTokens: tokens[1] },
    latencyMs: 3,
    finishReason: toolCalls.length ? 'tool_calls' : 'stop',
  });
const toolStarted = (callId: string, attempt = 1, recovery?: EventPayloads['tool.started']['recovery']) =>
  ev('tool.started', {
    callId,
    tool: 'lookup_order',
    args: { orderId: 'A-1' },
    attempt,
    idempotencyKey: `${RUN}:${callId}`,
    ...(recovery ? { recovery } : {}),
  });
const toolSucceeded = (callId: string, result: unknown = { status: 'shipped' }, attempt = 1) =>
  ev('tool.succeeded', { callId, tool: 'lookup_order', attempt, result });
const toolFailed = (callId: string, attempt = 1, nextAttemptAt?: number) =>
  ev('tool.failed', {
    callId,
    tool: 'lookup_order',
    attempt,
    error: error('timeout'),
    retryable: nextAttemptAt !== undefined,
    ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
  });
const approvalRequested = (callId: string, expiresAt = T0 + 60_000) =>
  ev('approval.requested', {
    approvalId: `appr_${callId}`,
    callId,
    tool: 'lookup_order',
    agent: 'support',
    args: { orderId: 'A-1' },
    argsDigest: 'digest-1',
    reasons: ['refund over limit'],
    rules: ['tool:requiresApproval'],
    requestedBy: 'support',
    expiresAt,
  });
const approvalDecided = (
  callId: string,
  decision: EventPayloads['approval.decided']['decision'],
  extra: Partial<EventPayloads['approval.decided']> = {},
  at?: number,
) =>
  ev('approval.decided', { approvalId: `appr_${callId}`, callId, decision, approver: 'ops_1', ...extra }, at);
const delegated = (callId: string) =>
  ev('delegation.requested', {
    callId,
    childRunId: 'run_child',
    agent: 'billing',
    task: 'refund',
    context: {},
  });
const delegationCompleted = (callId: string, data: Partial<EventPayloads['delegation.completed']>) =>
  ev('delegation.completed', { callId, childRunId: 'run_child', status: 'completed', ...data });
const needsAttention = (callId: string) =>
  ev('run.needs_attention', {
    callId,
    tool: 'lookup_order',
    idempotencyKey: `${RUN}:${callId}`,
    reason: 'outcome unknown',
  });
const resumed = (callId: string, data: Partial<EventPayloads['run.resumed']>) =>
  ev('run.resumed', { callId, resolution: 'retry', by: 'ops_1', ...data });

/** A routed, started run whose model asked for these calls. */
const calling = (...calls: ToolCallData[]): Step[] => [
  routed(),
  agentStarted(),
  requested(),
  responded('Let me look.', calls),
];

const without = (s: RunState): Omit<RunState, 'seq' | 'updatedAt'> => {
  const { seq: _seq, updatedAt: _updatedAt, ...rest } = structuredClone(s);
  return rest;
};

/** One fold case: the state an event produces from the state `given` folds to. */
interface FoldCase<T extends EventType> {
  name: string;
  given: Step[];
  data: EventPayloads[T];
  at?: number;
  then: (after: RunState, before: RunState) => void;
}

/** The event leaves the state as it was (but its seq and time). */
const unchanged = (after: RunState, before: RunState) => assert.deepEqual(without(after), without(before));

/**
 * At least one case per event type: typed by the event union, so a new event type does not
 * compile until it has a case here.
 */
const FOLD_CASES: { [T in EventType]: FoldCase<T>[] } = {
  'run.submitted': [], // The first event: see "initialState" below; anywhere else it is refused.
  'route.decided': [
    {
      name: 'sets the agent, its version and confidence; the run is running',
      given: [],
      data: {
        agent: 'support',
        method: 'semantic',
        confidence: 0.8,
        reason: 'r',
        candidates: [],
        version: 'v2',
      },
      then: (s) => {
        assert.equal(s.agent, 'support');
        assert.equal(s.version, 'v2');
        assert.equal(s.routeConfidence, 0.8);
        assert.equal(s.status, 'running');
        assert.equal(s.agentStarted, false);
      },
    },
    {
      name: 'keeps the pinned version when the decision names none',
      given: [],
      data: { agent: 'support', method: 'pinned', confidence: 1, reason: 'r', candidates: [] },
      then: (s) => assert.equal(s.version, 'v1'),
    },
  ],
  'route.escalated': [
    {
      name: 'escalates the run, by the router',
      given: [],
      data: { reason: 'low confidence', confidence: 0.2, threshold: 0.5, candidates: [] },
      then: (s) => {
        assert.equal(s.status, 'escalated');
        assert.deepEqual(s.escalation, { reason: 'low confidence', by: 'router' });
        assert.equal(s.agent, undefined);
      },
    },
  ],
  'run.escalated': [
    {
      name: "escalates and settles the agent's escalate_to_human call",
      given: calling(call('c1', 'escalate_to_human')),
      data: {
        by: 'agent',
        agent: 'support',
        callId: 'c1',
        summary: 'angry customer',
        reason: 'refund dispute',
      },
      then: (s) => {
        assert.equal(s.status, 'escalated');
        assert.deepEqual(s.escalation, { reason: 'refund dispute', summary: 'angry customer', by: 'agent' });
        assert.equal(s.calls[0]!.phase, 'done');
        assert.deepEqual(s.turns.at(-1), {
          role: 'tool',
          callId: 'c1',
          toolName: 'escalate_to_human',
          output: { kind: 'result', value: 'Handed to a person.' },
        });
      },
    },
    {
      name: "consumes a delegated run's escalation",
      given: [
        ...calling(call('c1', 'delegate')),
        delegated('c1'),
        delegationCompleted('c1', {
          status: 'failed',
          error: error('needs a person', { code: 'escalated' }),
        }),
      ],
      data: { by: 'policy', summary: 's', reason: 'child escalated' },
      then: (s) => {
        assert.equal(s.status, 'escalated');
        assert.equal(s.childEscalation, undefined);
        assert.equal(s.escalation?.by, 'policy');
      },
    },
  ],
  'run.reopened': [
    {
      name: "clears the escalation, adds the operator's note and gives the agent another step",
      given: [
        ...calling(call('c1', 'escalate_to_human')),
        ev('run.escalated', { by: 'agent', callId: 'c1', summary: 's', reason: 'r' }),
      ],
      data: { by: 'ops_1', note: 'Refund approved, go ahead.' },
      then: (s) => {
        assert.equal(s.status, 'running');
        assert.equal(s.escalation, undefined);
        assert.equal(s.answered, false);
        assert.equal(s.agent, 'support');
        assert.deepEqual(s.turns.at(-1), {
          role: 'user',
          text: 'Note from ops_1: Refund approved, go ahead.',
        });
      },
    },
    {
      name: 'names the agent of a run the router escalated, with full confidence',
      given: [ev('route.escalated', { reason: 'r', confidence: 0.1, threshold: 0.5, candidates: [] })],
      data: { by: 'ops_1', agent: 'billing' },
      then: (s) => {
        assert.equal(s.agent, 'billing');
        assert.equal(s.routeConfidence, 1);
        assert.equal(s.turns.length, 1, 'no note, no turn');
      },
    },
    {
      name: 'keeps the agent a routed run already has',
      given: [routed('support'), ev('run.escalated', { by: 'policy', summary: 's', reason: 'r' })],
      data: { by: 'ops_1', agent: 'billing' },
      then: (s) => {
        assert.equal(s.agent, 'support');
        assert.equal(s.routeConfidence, 0.9);
      },
    },
  ],
  'agent.started': [
    {
      name: 'starts the agent',
      given: [routed()],
      data: { agent: 'support', version: 'sha-1' },
      then: (s) => {
        assert.equal(s.agentStarted, true);
        assert.equal(s.agent, 'support');
        assert.equal(s.status, 'running');
      },
    },
  ],
  'memory.loaded': [
    {
      name: "puts the session's earlier turns before the run's own conversation",
      given: [routed(), agentStarted()],
      data: {
        turns: 2,
        tokens: 20,
        status: 'ok',
        context: {
          turns: [
            { role: 'user', text: 'My order is A-1.', runId: 'run_0' },
            { role: 'assistant', text: 'Noted.', runId: 'run_0' },
          ],
          workingState: { entities: [{ key: 'orderId', value: 'A-1', from: 'run_0' }], lists: [] },
          facts: [],
        },
      },
      then: (s) => {
        assert.deepEqual(s.turns, [
          { role: 'user', text: 'My order is A-1.' },
          { role: 'assistant', text: 'Noted.', toolCalls: [] },
          { role: 'user', text: 'Where is my order?' },
        ]);
        assert.equal(s.memory?.workingState.entities[0]?.value, 'A-1');
      },
    },
    {
      name: 'changes nothing when memory is disabled',
      given: [routed(), agentStarted()],
      data: { turns: 0, tokens: 0, status: 'disabled' },
      then: unchanged,
    },
  ],
  'memory.persisted': [{ name: 'changes nothing', given: calling(), data: { messages: 2 }, then: unchanged }],
  'run.redacted': [
    {
      name: 'changes nothing',
      given: calling(),
      data: { by: 'ops_1', reason: 'gdpr', events: 3 },
      then: unchanged,
    },
  ],
  'memory.failed': [
    { name: 'changes nothing', given: [routed()], data: { error: error() }, then: unchanged },
  ],
  'tools.retrieved': [
    {
      name: 'changes nothing (the shown tools are those of model.requested)',
      given: [routed(), agentStarted()],
      data: { candidates: [], shown: ['lookup_order'], totalAvailable: 9, threshold: 0.3 },
      then: unchanged,
    },
  ],
  'model.retried': [
    {
      name: 'counts a retry',
      given: [routed(), agentStarted(), requested()],
      data: { attempt: 1, status: 429, delayMs: 100, retryAfter: true, error: error('rate limited') },
      then: (s, before) => {
        assert.equal(s.retries, before.retries + 1);
        assert.equal(s.modelCalls, 0, 'a failed attempt is not a model call');
      },
    },
  ],
  'model.requested': [
    {
      name: 'records the tools shown to the model',
      given: [routed(), agentStarted()],
      data: { modelId: 'm', provider: 'scripted', tools: ['lookup_order', 'refund'], messages: 2 },
      then: (s) => {
        assert.deepEqual(s.shownTools, ['lookup_order', 'refund']);
        assert.equal(s.status, 'running');
      },
    },
  ],
  'model.responded': [
    {
      name: 'counts the step and its tokens and queues its tool calls in order',
      given: [routed(), agentStarted(), requested()],
      data: {
        modelId: 'm',
        text: 'Checking.',
        toolCalls: [call('c1'), call('c2', 'notify')],
        usage: { inputTokens: 100, outputTokens: 20 },
        latencyMs: 4,
        finishReason: 'tool_calls',
      },
      then: (s) => {
        assert.equal(s.steps, 1);
        assert.equal(s.modelCalls, 1);
        assert.equal(s.inputTokens, 100);
        assert.equal(s.outputTokens, 20);
        assert.equal(s.answered, false);
        assert.deepEqual(
          s.calls.map((c) => [c.call.callId, c.phase, c.attempt]),
          [
            ['c1', 'pending', 0],
            ['c2', 'pending', 0],
          ],
        );
        assert.deepEqual(s.turns.at(-1), {
          role: 'assistant',
          text: 'Checking.',
          toolCalls: [call('c1'), call('c2', 'notify')],
        });
      },
    },
    {
      name: 'with no tool calls, the answer is ready and earlier calls are replaced',
      given: [...calling(call('c1')), toolStarted('c1'), toolSucceeded('c1'), requested()],
      data: {
        modelId: 'm',
        text: 'It shipped.',
        toolCalls: [],
        usage: { inputTokens: 30, outputTokens: 4 },
        latencyMs: 2,
        finishReason: 'stop',
      },
      then: (s) => {
        assert.equal(s.answered, true);
        assert.deepEqual(s.calls, []);
        assert.equal(s.steps, 2);
        assert.equal(s.inputTokens, 40);
      },
    },
  ],
  'tool.started': [
    {
      name: 'starts the call and counts the execution',
      given: calling(call('c1')),
      data: { callId: 'c1', tool: 'lookup_order', args: {}, attempt: 1, idempotencyKey: `${RUN}:c1` },
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'started');
        assert.equal(s.calls[0]!.attempt, 1);
        assert.equal(s.toolCalls, 1);
        assert.equal(s.retries, 0);
      },
    },
    {
      name: 'a later attempt is a retry and clears the due time',
      given: [...calling(call('c1')), toolStarted('c1'), toolFailed('c1', 1, T0 + 500)],
      data: { callId: 'c1', tool: 'lookup_order', args: {}, attempt: 2, idempotencyKey: `${RUN}:c1` },
      at: T0 + 500,
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'started');
        assert.equal(s.calls[0]!.nextAttemptAt, undefined);
        assert.equal(s.toolCalls, 2);
        assert.equal(s.retries, 1);
      },
    },
    {
      name: 'a recovery re-run counts as an execution, not as a retry',
      given: [...calling(call('c1')), toolStarted('c1')],
      data: {
        callId: 'c1',
        tool: 'lookup_order',
        args: {},
        attempt: 2,
        idempotencyKey: `${RUN}:c1`,
        recovery: 'in-doubt-rerun',
      },
      then: (s) => {
        assert.equal(s.toolCalls, 2);
        assert.equal(s.retries, 0);
      },
    },
  ],
  'tool.succeeded': [
    {
      name: 'settles the call with its result',
      given: [...calling(call('c1')), toolStarted('c1')],
      data: { callId: 'c1', tool: 'lookup_order', attempt: 1, result: { status: 'shipped' } },
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'done');
        assert.deepEqual(s.turns.at(-1), {
          role: 'tool',
          callId: 'c1',
          toolName: 'lookup_order',
          output: { kind: 'result', value: { status: 'shipped' } },
        });
      },
    },
  ],
  'tool.failed': [
    {
      name: 'with a due time, the call waits to be retried',
      given: [...calling(call('c1')), toolStarted('c1')],
      data: {
        callId: 'c1',
        tool: 'lookup_order',
        attempt: 1,
        error: error(),
        retryable: true,
        nextAttemptAt: T0 + 900,
      },
      then: (s, before) => {
        assert.equal(s.calls[0]!.phase, 'retry-wait');
        assert.equal(s.calls[0]!.nextAttemptAt, T0 + 900);
        assert.equal(s.turns.length, before.turns.length, 'no result for the model yet');
      },
    },
    {
      name: 'without one, the failure is final and the model sees the error',
      given: [...calling(call('c1')), toolStarted('c1')],
      data: { callId: 'c1', tool: 'lookup_order', attempt: 1, error: error('not found'), retryable: false },
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'done');
        assert.deepEqual(s.turns.at(-1)?.role === 'tool' && s.turns.at(-1), {
          role: 'tool',
          callId: 'c1',
          toolName: 'lookup_order',
          output: { kind: 'error', message: 'not found' },
        });
      },
    },
  ],
  'breaker.changed': [
    {
      name: 'changes nothing',
      given: [...calling(call('c1')), toolStarted('c1'), toolFailed('c1', 1, T0 + 900)],
      data: { tool: 'lookup_order', state: 'open', failures: 5, until: T0 + 30_000 },
      then: unchanged,
    },
  ],
  'tool.denied': [
    {
      name: 'settles the call as denied, with the reason for the model',
      given: calling(call('c1', 'refund')),
      data: { callId: 'c1', tool: 'refund', reason: 'policy-denied', message: 'Refunds need a manager.' },
      then: (s, before) => {
        assert.equal(s.calls[0]!.phase, 'done');
        assert.equal(s.toolCalls, before.toolCalls, 'a denied call is not an execution');
        assert.deepEqual(s.turns.at(-1), {
          role: 'tool',
          callId: 'c1',
          toolName: 'refund',
          output: { kind: 'denied', message: 'Refunds need a manager.' },
        });
      },
    },
  ],
  'approval.requested': [
    {
      name: 'the call waits for a person; the run is waiting',
      given: calling(call('c1')),
      data: approvalRequested('c1', T0 + 70_000).data as EventPayloads['approval.requested'],
      at: T0 + 10,
      then: (s) => {
        const c = s.calls[0]!;
        assert.equal(c.phase, 'awaiting-approval');
        assert.equal(c.approvalId, 'appr_c1');
        assert.equal(c.approvalExpiresAt, T0 + 70_000);
        assert.equal(c.approvalRequestedAt, T0 + 10);
        assert.equal(c.argsDigest, 'digest-1');
        assert.equal(s.status, 'waiting');
      },
    },
  ],
  'approval.decided': [
    {
      name: 'approved: the call runs next; the wait is not charged to the run',
      given: [...calling(call('c1')), approvalRequested('c1')],
      data: { approvalId: 'appr_c1', callId: 'c1', decision: 'approved', approver: 'ops_1' },
      at: T0 + 5_005, // requested at T0 + 5
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'pending');
        assert.equal(s.calls[0]!.approved, true);
        assert.equal(s.status, 'running');
        assert.equal(s.humanWaitMs, 5_000);
      },
    },
    {
      name: "rejected: the call is denied with the approver's comment",
      given: [...calling(call('c1')), approvalRequested('c1')],
      data: {
        approvalId: 'appr_c1',
        callId: 'c1',
        decision: 'rejected',
        approver: 'ops_1',
        comment: 'too much',
      },
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'done');
        assert.equal(s.calls[0]!.approved, false);
        assert.deepEqual(s.turns.at(-1), {
          role: 'tool',
          callId: 'c1',
          toolName: 'lookup_order',
          output: { kind: 'denied', message: 'Rejected by approver ops_1: too much. The call was not made.' },
        });
      },
    },
    {
      name: 'expired with the approve outcome: the call runs',
      given: [...calling(call('c1')), approvalRequested('c1')],
      data: {
        approvalId: 'appr_c1',
        callId: 'c1',
        decision: 'expired',
        outcome: 'approved',
        approver: 'system',
      },
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'pending');
        assert.equal(s.calls[0]!.approved, true);
      },
    },
    {
      name: 'expired with the reject outcome: the call is denied as expired',
      given: [...calling(call('c1')), approvalRequested('c1')],
      data: {
        approvalId: 'appr_c1',
        callId: 'c1',
        decision: 'expired',
        outcome: 'rejected',
        approver: 'system',
      },
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'done');
        const last = s.turns.at(-1);
        assert.equal(last?.role, 'tool');
        assert.deepEqual(last?.role === 'tool' && last.output, {
          kind: 'denied',
          message: 'The approval request expired without a decision; the call was not made.',
        });
      },
    },
  ],
  'approval.refused': [
    {
      name: 'changes nothing: the call still waits',
      given: [...calling(call('c1')), approvalRequested('c1')],
      data: { approvalId: 'appr_c1', by: 'user_1', reason: 'self-approval' },
      then: unchanged,
    },
  ],
  'delegation.requested': [
    {
      name: 'the call waits for the child run; the run is waiting',
      given: calling(call('c1', 'delegate')),
      data: { callId: 'c1', childRunId: 'run_child', agent: 'billing', task: 't', context: {} },
      then: (s) => {
        assert.equal(s.calls[0]!.phase, 'delegated');
        assert.equal(s.calls[0]!.childRunId, 'run_child');
        assert.equal(s.status, 'waiting');
      },
    },
  ],
  'delegation.completed': [
    {
      name: "completed: the child's output is the call's result",
      given: [...calling(call('c1', 'delegate')), delegated('c1')],
      data: { callId: 'c1', childRunId: 'run_child', status: 'completed', output: 'Refunded.' },
      then: (s) => {
        assert.equal(s.status, 'running');
        assert.equal(s.calls[0]!.phase, 'done');
        assert.deepEqual(s.turns.at(-1), {
          role: 'tool',
          callId: 'c1',
          toolName: 'delegate',
          output: { kind: 'result', value: 'Refunded.' },
        });
        assert.equal(s.childEscalation, undefined);
      },
    },
    {
      name: "failed: the model sees the child's error",
      given: [...calling(call('c1', 'delegate')), delegated('c1')],
      data: { callId: 'c1', childRunId: 'run_child', status: 'failed', error: error('no card') },
      then: (s) => {
        const last = s.turns.at(-1);
        assert.deepEqual(last?.role === 'tool' && last.output, {
          kind: 'error',
          message: 'delegated run failed (ToolError): no card',
        });
      },
    },
    {
      name: 'escalated: the parent keeps what to escalate with',
      given: [...calling(call('c1', 'delegate')), delegated('c1')],
      data: {
        callId: 'c1',
        childRunId: 'run_child',
        status: 'failed',
        error: error('needs a person', {
          code: 'escalated',
          details: { summary: 'card declined', agent: 'billing' },
        }),
      },
      then: (s) =>
        assert.deepEqual(s.childEscalation, {
          reason: 'needs a person',
          summary: 'card declined',
          agent: 'billing',
        }),
    },
    {
      name: 'arriving after the parent was cancelled, it leaves the parent cancelled',
      given: [
        ...calling(call('c1', 'delegate')),
        delegated('c1'),
        ev('run.cancelled', { reason: 'user asked', by: 'user_1', totals }),
      ],
      data: { callId: 'c1', childRunId: 'run_child', status: 'cancelled' },
      then: (s) => assert.equal(s.status, 'cancelled'),
    },
  ],
  'run.needs_attention': [
    {
      name: 'stops the run for an operator',
      given: [...calling(call('c1')), toolStarted('c1')],
      data: { callId: 'c1', tool: 'lookup_order', idempotencyKey: `${RUN}:c1`, reason: 'outcome unknown' },
      then: (s) => {
        assert.equal(s.status, 'needs_attention');
        assert.equal(s.attention?.callId, 'c1');
        assert.equal(s.calls[0]!.phase, 'started');
      },
    },
  ],
  'run.resumed': [
    {
      name: 'succeeded: the operator gives the result',
      given: [...calling(call('c1')), toolStarted('c1'), needsAttention('c1')],
      data: { callId: 'c1', resolution: 'succeeded', by: 'ops_1', result: { status: 'shipped' } },
      then: (s) => {
        assert.equal(s.status, 'running');
        assert.equal(s.attention, undefined);
        assert.equal(s.calls[0]!.phase, 'done');
        const last = s.turns.at(-1);
        assert.deepEqual(last?.role === 'tool' && last.output, {
          kind: 'result',
          value: { status: 'shipped' },
        });
      },
    },
    {
      name: 'failed: the model sees the failure',
      given: [...calling(call('c1')), toolStarted('c1'), needsAttention('c1')],
      data: { callId: 'c1', resolution: 'failed', by: 'ops_1' },
      then: (s) => {
        const last = s.turns.at(-1);
        assert.deepEqual(last?.role === 'tool' && last.output, {
          kind: 'error',
          message: 'failed (resolved by operator)',
        });
      },
    },
    {
      name: 'retry: the call runs again',
      given: [...calling(call('c1')), toolStarted('c1'), needsAttention('c1')],
      data: { callId: 'c1', resolution: 'retry', by: 'ops_1' },
      then: (s) => {
        assert.equal(s.status, 'running');
        assert.equal(s.calls[0]!.phase, 'pending');
        assert.equal(s.calls[0]!.attempt, 1);
      },
    },
  ],
  progress: [
    {
      name: 'changes nothing',
      given: calling(call('c1')),
      data: { message: 'half way', callId: 'c1' },
      then: unchanged,
    },
  ],
  'run.completed': [
    {
      name: 'completes the run with its output',
      given: [...calling(), requested()],
      data: { output: 'It shipped.', totals },
      then: (s) => {
        assert.equal(s.status, 'completed');
        assert.equal(s.output, 'It shipped.');
      },
    },
  ],
  'run.failed': [
    {
      name: 'fails the run with its error',
      given: calling(call('c1')),
      data: { error: error('budget', { name: 'BudgetExceededError' }), totals },
      then: (s) => {
        assert.equal(s.status, 'failed');
        assert.equal(s.error?.name, 'BudgetExceededError');
      },
    },
  ],
  'run.cancelled': [
    {
      name: 'cancels the run',
      given: calling(call('c1')),
      data: { reason: 'user asked', by: 'user_1', totals },
      then: (s) => assert.equal(s.status, 'cancelled'),
    },
  ],
};

describe('foldRun / applyEvent: every event type', () => {
  for (const [type, cases] of Object.entries(FOLD_CASES) as [EventType, FoldCase<EventType>[]][]) {
    for (const c of cases) {
      it(`${type}: ${c.name}`, () => {
        const submitted = submission(type === 'route.decided' ? { version: 'v1' } : {});
        const before = fold(c.given, submitted);
        const after = fold(
          [...c.given, { ...event(type, c.data), ...(c.at ? { at: c.at } : {}) }],
          submitted,
        );
        assert.equal(after.seq, before.seq + 1);
        c.then(after, before);
        // Incremental and whole folds agree: a worker may keep its state and apply newer events.
        const step: Step = { ...event(type, c.data), ...(c.at ? { at: c.at } : {}) };
        assert.deepEqual(apply(structuredClone(before), [step]), after);
      });
    }
  }
});

describe('foldRun: the journal itself', () => {
  it('every event type but the first has a fold case above', () => {
    const missing = Object.entries(FOLD_CASES).filter(
      ([type, cases]) => type !== 'run.submitted' && !cases.length,
    );
    assert.deepEqual(missing, []);
  });

  it('initialState: a submitted run is queued with the input as its first turn', () => {
    const s = initialState(journal([], submission({ version: 'v3' }))[0]!);
    assert.equal(s.status, 'queued');
    assert.equal(s.seq, 1);
    assert.equal(s.createdAt, T0);
    assert.equal(s.version, 'v3');
    assert.deepEqual(s.turns, [{ role: 'user', text: 'Where is my order?' }]);
    assert.deepEqual(totalsOf(s, T0 + 250), { ...totals, steps: 0, modelCalls: 0, durationMs: 250 });
  });

  it('refuses a journal that does not start with run.submitted at seq 1', () => {
    assert.throws(() => foldRun([]), /empty journal/);
    const [, second] = journal([routed()]);
    assert.throws(() => foldRun([second!]), /must start with run\.submitted at seq 1/);
  });

  it('refuses a second run.submitted, a gap in seq and an event for an unknown call', () => {
    const state = fold([]);
    assert.throws(
      () => applyEvent(structuredClone(state), { ...journal([])[0]!, seq: 2 }),
      /run\.submitted may only be the first event/,
    );
    const [, e] = journal([routed()]);
    assert.throws(() => applyEvent(structuredClone(state), { ...e!, seq: 3 }), /expected seq 2, got 3/);
    assert.throws(
      () => fold([...calling(call('c1')), toolSucceeded('c9')]),
      /tool\.succeeded for unknown call c9/,
    );
  });

  it('totals count the run so far', () => {
    const s = fold([
      ...calling(call('c1')),
      toolStarted('c1'),
      toolFailed('c1', 1, T0 + 50),
      toolStarted('c1', 2),
    ]);
    assert.deepEqual(totalsOf(s, T0 + 1_000), {
      steps: 1,
      modelCalls: 1,
      toolCalls: 2,
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0,
      durationMs: 1_000,
    });
  });
});

const budget = (limits: Partial<Budget> = {}): Budget => ({ ...DEFAULT_BUDGET, ...limits });

describe('decide: the next action', () => {
  it('a submitted run is routed, then its agent started, then the model asked', () => {
    assert.deepEqual(decide(fold([]), T0 + 1, budget()), { kind: 'route' });
    assert.deepEqual(decide(fold([routed()]), T0 + 1, budget()), { kind: 'start-agent' });
    assert.deepEqual(decide(fold([routed(), agentStarted()]), T0 + 2, budget()), { kind: 'model' });
  });

  it("an answer completes the run with the model's last text", () => {
    assert.deepEqual(decide(fold([...calling(), requested()]), T0 + 9, budget()), {
      kind: 'complete',
      output: 'Let me look.',
    });
  });

  it("calls run in the model's order, each once, then the model is asked again", () => {
    const steps = calling(call('c1'), call('c2'));
    const first = decide(fold(steps), T0 + 9, budget());
    assert.equal(first.kind, 'call');
    assert.equal(first.kind === 'call' && first.call.call.callId, 'c1');
    assert.equal(first.kind === 'call' && first.attempt, 1);
    const second = decide(fold([...steps, toolStarted('c1'), toolSucceeded('c1')]), T0 + 9, budget());
    assert.equal(second.kind === 'call' && second.call.call.callId, 'c2');
    const after = fold([
      ...steps,
      toolStarted('c1'),
      toolSucceeded('c1'),
      ev('tool.denied', {
        callId: 'c2',
        tool: 'lookup_order',
        reason: 'not-permitted',
        message: 'no',
      }),
    ]);
    assert.deepEqual(decide(after, T0 + 9, budget()), { kind: 'model' });
  });

  it('a started call with no recorded outcome is in doubt (the process died mid-call)', () => {
    const s = fold([...calling(call('c1'), call('c2')), toolStarted('c1')]);
    const next = decide(s, T0 + 9, budget());
    assert.equal(next.kind, 'in-doubt');
    assert.equal(next.kind === 'in-doubt' && next.call.call.callId, 'c1');
    // Recovery is the engine's (runtime/tools.ts: re-run an idempotent tool, else needs_attention);
    // decide reports it even with the tool budget used up, so the engine can settle the call first.
    assert.equal(decide(s, T0 + 9, budget({ maxToolCalls: 1 })).kind, 'in-doubt');
  });

  it('an in-doubt re-run that succeeds lets the run go on; its start is an execution, not a retry', () => {
    const s = fold([
      ...calling(call('c1')),
      toolStarted('c1'),
      toolStarted('c1', 2, 'in-doubt-rerun'),
      toolSucceeded('c1', 'ok', 2),
    ]);
    assert.equal(s.toolCalls, 2);
    assert.equal(s.retries, 0);
    assert.deepEqual(decide(s, T0 + 9, budget()), { kind: 'model' });
  });

  it('a failed call sleeps until its retry is due, then runs its next attempt', () => {
    const due = T0 + 2_000;
    const s = fold([...calling(call('c1')), toolStarted('c1'), toolFailed('c1', 1, due)]);
    assert.deepEqual(decide(s, due - 1, budget()), { kind: 'sleep', until: due });
    for (const now of [due, due + 1]) {
      const next = decide(s, now, budget());
      assert.equal(next.kind, 'call', `at ${now - due} ms after the due time`);
      assert.equal(next.kind === 'call' && next.attempt, 2);
    }
  });

  it('a final failure goes back to the model', () => {
    const s = fold([...calling(call('c1')), toolStarted('c1'), toolFailed('c1', 1)]);
    assert.deepEqual(decide(s, T0 + 9, budget()), { kind: 'model' });
  });

  it('an approval pending with no expiry waits for no worker', () => {
    const s = fold([...calling(call('c1')), approvalRequested('c1')]);
    delete s.calls[0]!.approvalExpiresAt; // an approval with no expiry
    assert.deepEqual(decide(s, T0 + 9, budget()), { kind: 'none', reason: 'waiting' });
  });

  it('an approval pending sleeps until its expiry, then expires', () => {
    const expires = T0 + 60_000;
    const s = fold([...calling(call('c1')), approvalRequested('c1', expires)]);
    assert.deepEqual(decide(s, expires - 1, budget()), { kind: 'sleep', until: expires });
    const next = decide(s, expires, budget());
    assert.equal(next.kind, 'expire-approval');
    assert.equal(next.kind === 'expire-approval' && next.call.approvalId, 'appr_c1');
  });

  it("waiting for a person is not charged to the run's deadline", () => {
    const deadlineMs = 10_000;
    const requestedAt = T0 + 1_000;
    const s = fold([...calling(call('c1')), { ...approvalRequested('c1', T0 + 100_000), at: requestedAt }]);
    // Far past the deadline while the approval is pending: still waiting, not failed.
    assert.deepEqual(decide(s, T0 + 50_000, budget({ deadlineMs })), { kind: 'sleep', until: T0 + 100_000 });
    // Approved 40 s later: those 40 s do not count.
    apply(s, [approvalDecided('c1', 'approved', {}, requestedAt + 40_000)]);
    const next = decide(s, T0 + 40_000 + deadlineMs, budget({ deadlineMs }));
    assert.equal(next.kind, 'call');
    assert.equal(decide(s, T0 + 40_000 + deadlineMs + 1, budget({ deadlineMs })).kind, 'fail');
  });

  it('an approved call runs; a rejected one goes back to the model', () => {
    const asked = [...calling(call('c1')), approvalRequested('c1')];
    const approved = decide(fold([...asked, approvalDecided('c1', 'approved')]), T0 + 9, budget());
    assert.equal(approved.kind === 'call' && approved.attempt, 1);
    assert.deepEqual(decide(fold([...asked, approvalDecided('c1', 'rejected')]), T0 + 9, budget()), {
      kind: 'model',
    });
  });

  it('a delegation waits for its child, then the model goes on with its output', () => {
    const asked = [...calling(call('c1', 'delegate')), delegated('c1')];
    assert.deepEqual(decide(fold(asked), T0 + 9, budget()), { kind: 'none', reason: 'waiting' });
    const done = fold([...asked, delegationCompleted('c1', { output: 'Refunded.' })]);
    assert.deepEqual(decide(done, T0 + 9, budget()), { kind: 'model' });
  });

  it("an escalated child escalates its parent once the step's other calls are done", () => {
    const steps = [
      ...calling(call('c1', 'delegate'), call('c2')),
      delegated('c1'),
      delegationCompleted('c1', {
        status: 'failed',
        error: error('needs a person', { code: 'escalated', details: { summary: 'card declined' } }),
      }),
    ];
    assert.equal(decide(fold(steps), T0 + 9, budget()).kind, 'call', 'c2 runs first');
    const s = fold([...steps, toolStarted('c2'), toolSucceeded('c2')]);
    assert.deepEqual(decide(s, T0 + 9, budget()), {
      kind: 'escalate',
      reason: 'needs a person',
      summary: 'card declined',
    });
  });

  it('a cancelled, completed, failed or escalated run does nothing more', () => {
    const ends: Step[] = [
      ev('run.cancelled', { reason: 'r', by: 'user_1', totals }),
      ev('run.completed', { output: 'o', totals }),
      ev('run.failed', { error: error(), totals }),
      ev('run.escalated', { by: 'policy', summary: 's', reason: 'r' }),
    ];
    for (const end of ends) {
      const s = fold([...calling(call('c1')), end]);
      assert.ok(TERMINAL_STATUSES.has(s.status));
      // Even with every budget blown: nothing is done to a finished run.
      assert.deepEqual(
        decide(s, T0 + 10 ** 9, budget({ deadlineMs: 0, maxTokens: 0 })),
        {
          kind: 'none',
          reason: 'terminal',
        },
        end.type,
      );
    }
    const escalated = fold([
      ev('route.escalated', { reason: 'r', confidence: 0, threshold: 0.5, candidates: [] }),
    ]);
    assert.deepEqual(decide(escalated, T0 + 9, budget()), { kind: 'none', reason: 'terminal' });
  });

  it('a reopened run goes on', () => {
    const s = fold([
      ...calling(call('c1', 'escalate_to_human')),
      ev('run.escalated', { by: 'agent', callId: 'c1', summary: 's', reason: 'r' }),
      ev('run.reopened', { by: 'ops_1', note: 'go on' }),
    ]);
    assert.deepEqual(decide(s, T0 + 9, budget()), { kind: 'model' });
  });

  it('a run that needs attention waits for an operator; resumed, it goes on', () => {
    const attention = [...calling(call('c1')), toolStarted('c1'), needsAttention('c1')];
    assert.deepEqual(decide(fold(attention), T0 + 10 ** 9, budget({ deadlineMs: 0 })), {
      kind: 'none',
      reason: 'needs_attention',
    });
    const retry = decide(fold([...attention, resumed('c1', { resolution: 'retry' })]), T0 + 9, budget());
    assert.equal(retry.kind, 'call');
    assert.equal(retry.kind === 'call' && retry.attempt, 2);
    const settled = fold([...attention, resumed('c1', { resolution: 'succeeded', result: 'ok' })]);
    assert.deepEqual(decide(settled, T0 + 9, budget()), { kind: 'model' });
  });
});

/** The BudgetExceededError a run fails with. */
const exceeded = (name: string, limit: number, used: number) => ({
  kind: 'fail',
  error: {
    name: 'BudgetExceededError',
    code: 'budget_exceeded',
    message: `budget exceeded: ${name} limit ${limit}, used ${used}`,
    details: { budget: name, limit, used },
  },
});

describe('decide: budgets stop a run exactly at a limit', () => {
  it('deadlineMs: at the deadline the run goes on; one ms over, it fails', () => {
    const s = fold([routed(), agentStarted()]);
    assert.deepEqual(decide(s, T0 + 5_000, budget({ deadlineMs: 5_000 })), { kind: 'model' });
    assert.deepEqual(
      decide(s, T0 + 5_001, budget({ deadlineMs: 5_000 })),
      exceeded('deadlineMs', 5_000, 5_001),
    );
  });

  it('maxTokens: at the limit no model call is made, but a pending call and an answer still go', () => {
    const tokens: [number, number] = [80, 20];
    const asking = fold([routed(), agentStarted(), requested(), responded('Look.', [call('c1')], tokens)]);
    assert.equal(decide(asking, T0 + 9, budget({ maxTokens: 100 })).kind, 'call');
    const answered = fold([routed(), agentStarted(), requested(), responded('Done.', [], tokens)]);
    assert.deepEqual(decide(answered, T0 + 9, budget({ maxTokens: 100 })), {
      kind: 'complete',
      output: 'Done.',
    });
    const next = fold([
      ...[routed(), agentStarted(), requested(), responded('Look.', [call('c1')], tokens)],
      toolStarted('c1'),
      toolSucceeded('c1'),
    ]);
    assert.deepEqual(decide(next, T0 + 9, budget({ maxTokens: 101 })), { kind: 'model' });
    assert.deepEqual(decide(next, T0 + 9, budget({ maxTokens: 100 })), exceeded('maxTokens', 100, 100));
  });

  it('maxTokens: one over, the run fails at once, pending calls or not', () => {
    const s = fold([routed(), agentStarted(), requested(), responded('Look.', [call('c1')], [81, 20])]);
    assert.deepEqual(decide(s, T0 + 9, budget({ maxTokens: 100 })), exceeded('maxTokens', 100, 101));
    const answered = fold([routed(), agentStarted(), requested(), responded('Done.', [], [81, 20])]);
    assert.deepEqual(decide(answered, T0 + 9, budget({ maxTokens: 100 })), exceeded('maxTokens', 100, 101));
  });

  it('maxSteps: one step under the limit the model is asked; at it the run fails, unless answered', () => {
    const steps = [...calling(call('c1')), toolStarted('c1'), toolSucceeded('c1')];
    const s = fold(steps);
    assert.deepEqual(decide(s, T0 + 9, budget({ maxSteps: 2 })), { kind: 'model' });
    assert.deepEqual(decide(s, T0 + 9, budget({ maxSteps: 1 })), exceeded('maxSteps', 1, 1));
    const answered = fold([...steps, requested(), responded('Shipped.')]);
    assert.deepEqual(decide(answered, T0 + 9, budget({ maxSteps: 2 })), {
      kind: 'complete',
      output: 'Shipped.',
    });
  });

  it('maxModelCalls: at the limit the run fails', () => {
    const s = fold([...calling(call('c1')), toolStarted('c1'), toolSucceeded('c1')]);
    assert.deepEqual(decide(s, T0 + 9, budget({ maxModelCalls: 2 })), { kind: 'model' });
    assert.deepEqual(decide(s, T0 + 9, budget({ maxModelCalls: 1 })), exceeded('maxModelCalls', 1, 1));
  });

  it('maxToolCalls: a call under the limit runs; at it, the run fails before the call', () => {
    const s = fold([...calling(call('c1'), call('c2')), toolStarted('c1'), toolSucceeded('c1')]);
    assert.equal(decide(s, T0 + 9, budget({ maxToolCalls: 2 })).kind, 'call');
    assert.deepEqual(decide(s, T0 + 9, budget({ maxToolCalls: 1 })), exceeded('maxToolCalls', 1, 1));
  });

  it('maxToolCalls: a retry draws from the same budget as a first attempt', () => {
    const s = fold([...calling(call('c1')), toolStarted('c1'), toolFailed('c1', 1, T0 + 50)]);
    assert.equal(decide(s, T0 + 50, budget({ maxToolCalls: 2 })).kind, 'call');
    assert.deepEqual(decide(s, T0 + 50, budget({ maxToolCalls: 1 })), exceeded('maxToolCalls', 1, 1));
    // Before the retry is due, the run sleeps: the budget is checked when it would run.
    assert.deepEqual(decide(s, T0 + 49, budget({ maxToolCalls: 1 })), { kind: 'sleep', until: T0 + 50 });
  });
});

describe('backoff (tool retries)', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2 };

  it('grows by the factor from the initial delay, half of it jittered', () => {
    assert.equal(backoff(1, policy, 0), 50);
    assert.equal(backoff(1, policy, 0.5), 75);
    assert.equal(backoff(2, policy, 0), 100);
    assert.equal(backoff(3, policy, 0.999), 400);
  });

  it('is never zero and never above the maximum', () => {
    assert.equal(backoff(0, policy, 0), 50);
    assert.equal(backoff(10, policy, 0), 500);
    assert.equal(backoff(10, policy, 0.9999), 1_000);
  });
});

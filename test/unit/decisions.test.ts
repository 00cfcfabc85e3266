/**
 * The engine's pure decisions (core/decisions), on their own: no store, no engine. Route choice,
 * the retrieval query, every call admission outcome, and model output parsing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { argsDigest } from '../../src/core/audit.ts';
import { DEFAULT_BUDGET } from '../../src/core/budget.ts';
import {
  chooseRoute,
  decideCall,
  parseModelOutput,
  retrievalQuery,
  stepTools,
  type AdmissionAgent,
  type CallInput,
} from '../../src/core/decisions/index.ts';
import { parsePolicies } from '../../src/core/policy.ts';
import type { RunState, Turn } from '../../src/core/run-state.ts';
import { defineTool, type AnyTool } from '../../src/core/tool.ts';
import { delegationInput, escalationInput } from '../../src/runtime/agents.ts';

const router = (choice: string | null) => ({
  route: () => ({ choice, confidence: 0.7, threshold: 0.3, method: 'fusion', reason: 'why', candidates: [] }),
});

describe('route choice', () => {
  const sub = { input: 'hello', lineage: [] as string[] };
  it('an agent named by the caller, or by the delegating parent', () => {
    const r = chooseRoute({ ...sub, agent: 'a' }, { agentNames: ['a', 'b'], router: router('b') });
    assert.deepEqual(r.kind === 'decided' && [r.decided.agent, r.decided.method], ['a', 'explicit']);
    const d = chooseRoute(
      { ...sub, agent: 'b', parentRunId: 'run_p', lineage: ['a'] },
      { agentNames: ['a', 'b'] },
    );
    assert.deepEqual(d.kind === 'decided' && [d.decided.method, d.decided.reason], [
      'delegation',
      'delegated by a',
    ]);
  });
  it("the router's choice; escalated when it abstains or names an unknown agent", () => {
    const r = chooseRoute(sub, { agentNames: ['a', 'b'], router: router('b') });
    assert.deepEqual(r.kind === 'decided' && [r.decided.agent, r.decided.threshold], ['b', 0.3]);
    assert.equal(chooseRoute(sub, { agentNames: ['a'], router: router(null) }).kind, 'escalated');
    const unknown = chooseRoute(sub, { agentNames: ['a'], router: router('zz') });
    assert.equal(unknown.kind === 'escalated' && unknown.escalated.reason, 'router chose unknown agent zz');
  });
  it('without a router: the default agent, the only agent, else escalated', () => {
    const d = chooseRoute(sub, { agentNames: ['a', 'b'], defaultAgent: 'b' });
    assert.deepEqual(d.kind === 'decided' && [d.decided.agent, d.decided.method], ['b', 'default']);
    const only = chooseRoute(sub, { agentNames: ['a'] });
    assert.equal(only.kind === 'decided' && only.decided.agent, 'a');
    assert.equal(chooseRoute(sub, { agentNames: ['a', 'b'] }).kind, 'escalated');
  });
});

describe('retrieval query and tools shown', () => {
  const turns: Turn[] = [
    { role: 'user', text: 'Where is ORD-1?' },
    { role: 'assistant', text: '', toolCalls: [] },
    { role: 'tool', callId: 's1c1', toolName: 'lookup', output: { kind: 'result', value: { ok: 1 } } },
  ];
  it('is the conversation so far, tool results with their tool name', () => {
    assert.equal(retrievalQuery(turns), 'Where is ORD-1?\n\nlookup {"kind":"result","value":{"ok":1}}');
  });
  it("shows the retriever's tools in its order; every tool when retrieval is off", () => {
    const specs = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    let asked = '';
    const retriever = {
      retrieve: (q: string) => {
        asked = q;
        return { shown: ['c', 'a'], candidates: [], totalAvailable: 3, threshold: 0 };
      },
    };
    const on = stepTools(specs, turns, retriever, { enabled: true, topK: 2, pinned: [] });
    assert.deepEqual(
      on.specs.map((s) => s.name),
      ['c', 'a'],
    );
    assert.equal(asked, retrievalQuery(turns));
    const off = stepTools(specs, turns, retriever, { enabled: false, topK: 2, pinned: [] });
    assert.deepEqual([off.retrieved, off.specs.map((s) => s.name)], [undefined, ['a', 'b', 'c']]);
  });
});

describe('call admission: every outcome', () => {
  const refund = defineTool({
    name: 'refund',
    description: 'Refund',
    input: z.object({ orderId: z.string(), amount: z.number() }),
    risk: 'financial',
    run: () => ({}),
  });
  const wire = defineTool({
    name: 'wire',
    description: 'Wire money',
    input: z.object({ to: z.string() }),
    risk: 'financial',
    requiresApproval: () => 'wires are checked by a person',
    run: () => ({}),
  });
  const agent: AdmissionAgent = {
    name: 'billing',
    tools: new Map<string, AnyTool>([
      ['refund', refund],
      ['wire', wire],
    ]),
    delegates: new Map([['delegate_to_support', 'support']]),
    def: { escalation: true },
  };
  const policies = parsePolicies([
    {
      id: 'big',
      effect: 'require-approval',
      match: { tool: 'refund', args: [{ path: 'amount', op: 'gt', value: 100 }] },
    },
    {
      id: 'locked',
      effect: 'deny',
      reason: 'ORD-9 is locked',
      match: { tool: 'refund', args: [{ path: 'orderId', op: 'eq', value: 'ORD-9' }] },
    },
    {
      id: 'daily',
      effect: 'require-approval',
      match: { tool: 'refund', history: { sum: 'amount', windowMs: 86_400_000, above: 500 } },
    },
  ]);
  const state = {
    submitted: { actorId: 'u1', lineage: [], depth: 0, budget: DEFAULT_BUDGET },
    agent: 'billing',
  } as unknown as RunState;
  const input = (toolName: string, args: unknown, extra: Partial<CallInput> = {}): CallInput => ({
    agent,
    state,
    call: { call: { callId: 's1c1', modelCallId: 'm', toolName, input: args } },
    policies,
    builtins: { delegation: delegationInput, escalation: escalationInput },
    ...extra,
  });
  const none = () => new Map<string, string>();

  it('allowed: the tool runs with the validated arguments', async () => {
    const d = await decideCall(input('refund', { orderId: 'ORD-1', amount: 20 }), none);
    assert.deepEqual(d.kind === 'run' && [d.tool.name, d.args], ['refund', { orderId: 'ORD-1', amount: 20 }]);
  });
  it('not owned: a tool of another agent, or an invented one', async () => {
    const d = await decideCall(input('lookup', {}), none);
    assert.deepEqual(d.kind === 'deny' && d.reason, 'not-permitted');
    assert.match(d.kind === 'deny' ? d.message : '', /not available to agent "billing"/);
  });
  it('not shown: a tool the agent owns but the model was not shown at this step', async () => {
    const shown = { ...state, shownTools: ['wire'] } as RunState;
    const d = await decideCall(input('refund', { orderId: 'ORD-1', amount: 1 }, { state: shown }), none);
    assert.equal(d.kind === 'deny' && d.reason, 'not-permitted');
    assert.match(d.kind === 'deny' ? d.message : '', /was not shown at this step/);
  });
  it('invalid arguments: schema errors and arguments that are not JSON', async () => {
    const d = await decideCall(input('refund', { orderId: 'ORD-1' }), none);
    assert.equal(d.kind === 'deny' && d.reason, 'invalid-arguments');
    const raw = input('refund', '{"orderId":');
    raw.call.call.argumentsError = 'cut-off';
    const cut = await decideCall(raw, none);
    assert.match(cut.kind === 'deny' ? cut.message : '', /were cut off/);
  });
  it('denied by policy', async () => {
    const d = await decideCall(input('refund', { orderId: 'ORD-9', amount: 5 }), none);
    assert.deepEqual(d.kind === 'deny' && [d.reason, d.message], [
      'policy-denied',
      'Policy refused refund: ORD-9 is locked.',
    ]);
  });
  it("needs approval: a policy's argument rule, or the tool's own rule", async () => {
    const d = await decideCall(input('refund', { orderId: 'ORD-1', amount: 150 }), none);
    assert.deepEqual(d.kind === 'require-approval' && d.verdict.rules, ['big']);
    const own = await decideCall(input('wire', { to: 'x' }), none);
    assert.deepEqual(own.kind === 'require-approval' && own.verdict.reasons, [
      'wires are checked by a person',
    ]);
  });
  it('over an approval limit: a history rule whose ledger refused the reservation', async () => {
    const asked: boolean[] = [];
    const d = await decideCall(input('refund', { orderId: 'ORD-1', amount: 20 }), (_s, approved) => {
      asked.push(approved);
      return new Map([['daily', 'amount totals 520']]);
    });
    assert.deepEqual(d.kind === 'require-approval' && d.verdict.rules, ['daily']);
    assert.deepEqual(asked, [false]);
  });
  it('approved: runs when the arguments are the approved ones, void otherwise; recorded, not judged', async () => {
    const args = { orderId: 'ORD-1', amount: 150 };
    const asked: boolean[] = [];
    const history = (_s: unknown, approved: boolean) => (asked.push(approved), new Map([['daily', 'over']]));
    const ok = input('refund', args);
    ok.call = { ...ok.call, approved: true, argsDigest: argsDigest(args) };
    assert.equal((await decideCall(ok, history)).kind, 'run');
    const other = input('refund', { ...args, amount: 151 });
    other.call = { ...other.call, approved: true, argsDigest: argsDigest(args) };
    const d = await decideCall(other, history);
    assert.equal(d.kind === 'deny' && d.reason, 'approval-void');
    assert.deepEqual(asked, [true], 'a void approval records nothing');
  });
  it('built-in tools: delegation (cycle refused, too deep fails) and escalation', async () => {
    const task = { task: 'help' };
    assert.equal((await decideCall(input('delegate_to_support', task), none)).kind, 'delegate');
    const cycle = { ...state, submitted: { ...state.submitted, lineage: ['support'] } };
    const c = await decideCall(input('delegate_to_support', task, { state: cycle }), none);
    assert.equal(c.kind === 'deny' && c.reason, 'delegation-cycle');
    const deep = {
      ...state,
      submitted: { ...state.submitted, depth: DEFAULT_BUDGET.maxDelegationDepth },
    };
    const f = await decideCall(input('delegate_to_support', task, { state: deep }), none);
    assert.deepEqual(f.kind === 'fail' && [f.budget, f.used], [
      'maxDelegationDepth',
      DEFAULT_BUDGET.maxDelegationDepth + 1,
    ]);
    const e = await decideCall(input('escalate_to_human', { summary: 's', reason: 'r' }), none);
    assert.equal(e.kind, 'escalate');
  });
});

describe('model output parsing', () => {
  it('text, tool calls numbered by step, arguments parsed or flagged', () => {
    const out = parseModelOutput(
      [
        { type: 'text', text: 'Let me ' },
        { type: 'text', text: 'check.' },
        { type: 'tool-call', toolCallId: 'x1', toolName: 'lookup', input: '{"id":"A"}' },
        { type: 'tool-call', toolCallId: 'x2', toolName: 'track', input: '' },
        { type: 'tool-call', toolCallId: 'x3', toolName: 'refund', input: '{"id":' },
        { type: 'reasoning' },
      ],
      'length',
      3,
    );
    assert.equal(out.text, 'Let me check.');
    assert.deepEqual(out.toolCalls, [
      { callId: 's3c1', modelCallId: 'x1', toolName: 'lookup', input: { id: 'A' } },
      { callId: 's3c2', modelCallId: 'x2', toolName: 'track', input: {} },
      { callId: 's3c3', modelCallId: 'x3', toolName: 'refund', input: '{"id":', argumentsError: 'cut-off' },
    ]);
    assert.equal(
      parseModelOutput([{ type: 'tool-call', toolCallId: 'y', toolName: 't', input: 'nope' }], 'stop', 1)
        .toolCalls[0]?.argumentsError,
      'not-json',
    );
  });
});

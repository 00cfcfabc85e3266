/** The shadow report (core/shadow-report.ts) from hand-built journals: every field of a pair and the totals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JournalEvent } from '../../src/core/events.ts';
import { SHADOW_APPROVAL_PREFIX, shadowReport } from '../../src/core/shadow-report.ts';
import { hashPct, recordedCalls } from '../../src/runtime/shadow.ts';

const at = 1_000;
function journal(runId: string, events: { type: string; data: unknown }[]): JournalEvent[] {
  return events.map((e, i) => ({ runId, seq: i + 1, at, v: 1, ...e }) as JournalEvent);
}
const responded = (calls: { callId: string; toolName: string; input: unknown }[], text = '') => ({
  type: 'model.responded',
  data: { modelId: 'm', text, toolCalls: calls, usage: {}, latencyMs: 1, finishReason: 'stop' },
});
const submitted = {
  type: 'run.submitted',
  data: { actorId: 'a', sessionId: 's', input: 'hi', channel: 'api', lineage: [], depth: 0, budget: {} },
};
const totals = {};

const live = journal('live1', [
  submitted,
  responded([{ callId: 's1c1', toolName: 'lookup', input: { id: 1 } }]),
  { type: 'approval.requested', data: { approvalId: 'a1', callId: 's1c1', tool: 'lookup' } },
  {
    type: 'tool.started',
    data: { callId: 's1c1', tool: 'lookup', args: { id: 1 }, attempt: 1, idempotencyKey: 'k' },
  },
  { type: 'tool.succeeded', data: { callId: 's1c1', tool: 'lookup', attempt: 1, result: { ok: 1 } } },
  responded([], 'Done.'),
  { type: 'run.completed', data: { output: 'Done.', totals } },
]);
const shadow = journal('shadow1', [
  submitted,
  responded([
    { callId: 's1c1', toolName: 'lookup', input: { id: 1 } },
    { callId: 's1c2', toolName: 'refund', input: { amount: 5 } },
  ]),
  {
    type: 'tool.started',
    data: {
      callId: 's1c1',
      tool: 'lookup',
      args: { id: 1 },
      attempt: 1,
      idempotencyKey: 'shadow:live1:s1c1',
    },
  },
  { type: 'tool.succeeded', data: { callId: 's1c1', tool: 'lookup', attempt: 1, result: { ok: 1 } } },
  { type: 'progress', data: { message: `${SHADOW_APPROVAL_PREFIX}: refunds need a person`, callId: 's1c2' } },
  {
    type: 'tool.denied',
    data: { callId: 's1c2', tool: 'refund', reason: 'shadow-divergent', message: 'refund was not executed' },
  },
  responded([{ callId: 's2c1', toolName: 'escalate_to_human', input: { summary: 'x', reason: 'y' } }]),
  {
    type: 'tool.denied',
    data: {
      callId: 's2c1',
      tool: 'escalate_to_human',
      reason: 'shadow-divergent',
      message: 'No person was asked',
    },
  },
  responded([], 'Other.'),
  { type: 'run.completed', data: { output: 'Other.', totals } },
]);
const same = journal('shadow2', [
  submitted,
  responded([], 'Done.'),
  { type: 'run.completed', data: { output: 'Done.', totals } },
]);
const escalatedLive = journal('live2', [
  submitted,
  responded([], 'Done.'),
  { type: 'run.escalated', data: { by: 'agent', agent: 'x', reason: 'r' } },
]);

test('a divergent pair: tools, steps with arguments, answers, approvals and escalations', () => {
  const r = shadowReport([{ live, shadow }]);
  assert.equal(r.runs, 1);
  assert.equal(r.divergent, 1);
  assert.equal(r.answersDiffer, 1);
  assert.deepEqual(r.runsReport[0], {
    liveRunId: 'live1',
    shadowRunId: 'shadow1',
    status: 'completed',
    liveTools: ['lookup'],
    shadowTools: ['lookup', 'refund', 'escalate_to_human'],
    divergentSteps: [
      { step: 1, tool: 'refund', args: { amount: 5 }, reason: 'refund was not executed' },
      {
        step: 2,
        tool: 'escalate_to_human',
        args: { summary: 'x', reason: 'y' },
        reason: 'No person was asked',
      },
    ],
    liveAnswer: 'Done.',
    shadowAnswer: 'Other.',
    answersEqual: false,
    liveApprovals: 1,
    shadowApprovalsNeeded: 1,
    liveEscalated: false,
    shadowEscalated: true,
  });
});

test('an equal pair counts in runs only; a live escalation and a running shadow are reported', () => {
  const r = shadowReport([
    { live, shadow: same },
    { live: escalatedLive, shadow: same.slice(0, 2) },
  ]);
  assert.deepEqual([r.runs, r.divergent, r.answersDiffer], [2, 0, 0]);
  const [a, b] = r.runsReport;
  assert.equal(a?.answersEqual, true);
  assert.deepEqual(a?.divergentSteps, []);
  assert.equal(a?.shadowEscalated, false);
  assert.equal(b?.liveEscalated, true);
  assert.equal(b?.liveAnswer, null);
  assert.equal(b?.status, 'running');
  assert.deepEqual(shadowReport([]), { runs: 0, divergent: 0, answersDiffer: 0, runsReport: [] });
});

test('recorded live calls match on the raw input or the parsed args; hashPct is stable and in 0..99', () => {
  const rec = recordedCalls(live);
  assert.equal(rec.length, 1);
  assert.equal(rec[0]?.tool, 'lookup');
  assert.ok(rec[0]?.inputs.has('{"id":1}'));
  assert.deepEqual(rec[0]?.result, { ok: 1 });
  const ids = Array.from({ length: 500 }, (_, i) => `run_${i}`);
  for (const id of ids) assert.equal(hashPct(id), hashPct(id));
  assert.ok(ids.every((id) => hashPct(id) >= 0 && hashPct(id) < 100));
  const under10 = ids.filter((id) => hashPct(id) < 10).length;
  assert.ok(under10 > 20 && under10 < 90, `about 10% of 500, got ${under10}`);
});

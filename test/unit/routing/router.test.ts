import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouter, createToolRetriever } from '../../../src/routing/index.ts';
import { agents, tools } from './helpers.ts';

void test('routes an in-scope request to the agent and records per-signal scores and the threshold', () => {
  const router = createRouter(agents);
  const d = router.route('I was charged twice, please refund me');
  assert.equal(d.choice, 'billing');
  assert.ok(d.confidence >= d.threshold);
  assert.ok(d.threshold > 0);
  assert.match(d.method, /lexical/);
  assert.match(d.method, /classifier/);
  const best = d.candidates[0];
  assert.equal(best?.name, 'billing');
  for (const signal of ['lexical', 'classifier', 'neighbors', 'coverage']) {
    assert.equal(typeof best?.scores[signal], 'number', `missing signal ${signal}`);
  }
  assert.deepEqual(
    d.candidates.map((c) => c.fused),
    [...d.candidates.map((c) => c.fused)].sort((a, b) => b - a),
  );
  assert.match(d.reason, /billing/);
});

void test('abstains and escalates with a reason when no agent applies', () => {
  const router = createRouter(agents);
  const d = router.route('what is the capital of mongolia');
  assert.equal(d.choice, null);
  assert.ok(d.confidence < d.threshold);
  assert.match(d.reason, /escalated: confidence .* below the threshold/);
  assert.equal(d.candidates.length, agents.length, 'escalation still explains every candidate');
});

void test('an empty catalog escalates instead of guessing', () => {
  const d = createRouter([]).route('anything');
  assert.equal(d.choice, null);
  assert.deepEqual(d.candidates, []);
});

void test('the allowed filter removes agents before scoring', () => {
  const d = createRouter(agents).route('refund my payment', { allowed: new Set(['shipping', 'accounts']) });
  assert.ok(d.candidates.every((c) => c.name !== 'billing'));
});

void test('rejects duplicate target names', () => {
  assert.throws(() => createRouter([agents[0]!, agents[0]!]), /duplicate routing target "billing"/);
});

void test('retrieves the tools a conversation needs, best first', () => {
  const retriever = createToolRetriever(tools);
  const r = retriever.retrieve('Where is my parcel? The tracking number is 1Z999', {
    permitted: new Set(tools.map((t) => t.name)),
    topK: 2,
  });
  assert.equal(r.abstained, false);
  assert.equal(r.shown[0], 'track_parcel');
  assert.equal(r.shown.length, 2);
  assert.equal(r.totalAvailable, tools.length);
  assert.equal(typeof r.candidates[0]?.scores.lexical, 'number');
});

void test('permission-filtered tools never appear among candidates or shown tools', () => {
  const retriever = createToolRetriever(tools);
  const permitted = new Set(tools.map((t) => t.name).filter((n) => n !== 'issue_refund'));
  const r = retriever.retrieve('Refund the payment for order 42 to the customer', {
    permitted,
    topK: 10,
    pinned: ['issue_refund'],
  });
  assert.ok(r.candidates.every((c) => c.name !== 'issue_refund'));
  assert.ok(!r.shown.includes('issue_refund'), 'pinning does not bypass permissions');
  assert.equal(r.totalAvailable, tools.length - 1);
  assert.equal(r.candidates.length, tools.length - 1);
});

void test('pinned tools are always shown, even when nothing else applies', () => {
  const retriever = createToolRetriever(tools);
  const permitted = new Set(tools.map((t) => t.name));
  const unrelated = retriever.retrieve('sing me a song about the sea', {
    permitted,
    pinned: ['lookup_order'],
  });
  assert.equal(unrelated.abstained, true);
  assert.deepEqual(unrelated.shown, ['lookup_order']);
  const related = retriever.retrieve('track my parcel please', {
    permitted,
    topK: 1,
    pinned: ['lookup_order'],
  });
  assert.deepEqual(related.shown, ['lookup_order', 'track_parcel']);
});

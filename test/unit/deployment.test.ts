import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideDeployment,
  DEPLOYMENT_DEFAULTS,
  elapsedSince,
  evaluateAlarms,
  parseStrategy,
  parseWeights,
  planOf,
  resolveDeploymentOptions,
  STRATEGY_GRAMMAR,
  type DeploymentLike,
  type FigurePair,
  type Figures,
} from '../../src/core/deployment.ts';
import { UserError } from '../../src/core/errors.ts';
import { quantile, runFacts } from '../../src/telemetry/version-figures.ts';
import type { JournalEvent } from '../../src/core/events.ts';

const opts = { ...resolveDeploymentOptions(), evaluateEveryMs: 1000 };

test('strategies parse: all-at-once, canary, linear, shadow with durations', () => {
  assert.deepEqual(parseStrategy('all-at-once'), { kind: 'all-at-once' });
  assert.deepEqual(parseStrategy('canary:10:30s'), { kind: 'canary', pct: 10, bakeMs: 30_000 });
  assert.deepEqual(parseStrategy('linear:25:10s'), { kind: 'linear', pct: 25, everyMs: 10_000 });
  assert.deepEqual(parseStrategy('shadow:50:1h'), { kind: 'shadow', pct: 50, durationMs: 3_600_000 });
  assert.deepEqual(parseStrategy(' canary:100:5m '), { kind: 'canary', pct: 100, bakeMs: 300_000 });
});

test('a bad strategy is a UserError naming the grammar', () => {
  for (const bad of [
    '',
    'canary',
    'canary:10',
    'canary:0:30s',
    'canary:101:30s',
    'canary:10.5:30s',
    'canary:-1:30s',
    'canary:10:soon',
    'linear:25:10s:extra',
    'blue-green:10:1m',
    'shadow:10:0s',
    'ALL-AT-ONCE',
    'canary:1e1:30s',
  ]) {
    assert.throws(
      () => parseStrategy(bad),
      (e: unknown) =>
        e instanceof UserError && e.field === 'strategy' && e.message.includes(STRATEGY_GRAMMAR),
      bad,
    );
  }
});

test('plans: canary shifts to pct then 100, linear steps by pct to 100 baking after each, shadow never shifts', () => {
  assert.deepEqual(
    planOf(parseStrategy('canary:10:30s'), 'v1', 'v2').map((s) => [s.weights, s.bakeMs]),
    [
      [{ v1: 90, v2: 10 }, 30_000],
      [{ v2: 100 }, 0],
    ],
  );
  assert.deepEqual(
    planOf(parseStrategy('linear:25:10s'), 'v1', 'v2').map((s) => [s.pct, s.bakeMs]),
    [
      [25, 10_000],
      [50, 10_000],
      [75, 10_000],
      [100, 10_000],
    ],
  );
  assert.deepEqual(
    planOf(parseStrategy('linear:40:1m'), 'a', 'b').map((s) => s.weights),
    [{ a: 60, b: 40 }, { a: 20, b: 80 }, { b: 100 }],
  );
  assert.deepEqual(planOf(parseStrategy('all-at-once'), 'a', 'b'), [
    { weights: { b: 100 }, pct: 100, bakeMs: 0 },
  ]);
  assert.deepEqual(planOf(parseStrategy('shadow:10:1m'), 'a', 'b'), []);
});

test('weights parse: integers summing to 100 over known versions, else a UserError', () => {
  assert.deepEqual(parseWeights('v1=90,v2=10'), { v1: 90, v2: 10 });
  assert.deepEqual(parseWeights(' v1 = 100 '), { v1: 100 });
  assert.deepEqual(parseWeights('v1=0,v2=100', new Set(['v1', 'v2'])), { v1: 0, v2: 100 });
  for (const bad of [
    '',
    'v1',
    'v1=90',
    'v1=90,v2=20',
    'v1=90,v1=10',
    'v1=50.5,v2=49.5',
    'v1=-10,v2=110',
    '=100',
    'v1=100,',
  ]) {
    assert.throws(
      () => parseWeights(bad),
      (e: unknown) => e instanceof UserError && e.field === 'weights',
      bad,
    );
  }
  assert.throws(
    () => parseWeights('v1=90,v3=10', new Set(['v1', 'v2'])),
    /v3 is not a published labeled version/,
  );
});

const fig = (over: Partial<Figures> = {}): Figures => ({
  runs: 20,
  finished: 20,
  completed: 20,
  failed: 0,
  escalated: 0,
  errorRate: 0,
  toolErrorRate: 0,
  escalationRate: 0,
  denialRate: 0,
  p95LatencyMs: 100,
  costPerRun: 0.01,
  tokensPerRun: 100,
  ...over,
});
const pair = (n: Partial<Figures>, o: Partial<Figures> = {}): FigurePair => ({
  new: fig(n),
  old: fig(o),
  since: 0,
  oldBasis: 'window',
});

test('alarms: nothing is judged before minRuns finished runs of the new version', () => {
  const a = DEPLOYMENT_DEFAULTS.alarms;
  assert.deepEqual(evaluateAlarms(pair({ finished: 9, errorRate: 1 }), a, 10), {
    judged: false,
    tripped: [],
  });
  assert.equal(evaluateAlarms(pair({ finished: 10, errorRate: 1 }), a, 10).tripped[0]?.alarm, 'errorRate');
});

test('alarms: each default trips on its figure and reports both sides; null turns one off', () => {
  const a = resolveDeploymentOptions().alarms;
  const trips = (n: Partial<Figures>, o: Partial<Figures> = {}, alarms = a) =>
    evaluateAlarms(pair(n, o), alarms, 10).tripped.map((t) => t.alarm);
  assert.deepEqual(trips({}), []);
  assert.deepEqual(trips({ errorRate: 0.2 }), ['errorRate']);
  assert.deepEqual(
    trips({ errorRate: 0.2 }, { errorRate: 0.15 }),
    [],
    'an absolute increase of 5 points is below 10',
  );
  assert.deepEqual(trips({ toolErrorRate: 0.5 }), ['toolErrorRate']);
  assert.deepEqual(trips({ escalationRate: 0.11 }), ['escalationRate']);
  assert.deepEqual(trips({ denialRate: 0.3 }), ['denialRate']);
  assert.deepEqual(trips({ p95LatencyMs: 500 }), ['p95LatencyRatio']);
  assert.deepEqual(trips({ p95LatencyMs: 300 }, { p95LatencyMs: 100 }), [], 'ratio 3 but only +200 ms');
  assert.deepEqual(trips({ p95LatencyMs: 150 }, { p95LatencyMs: 100 }), []);
  assert.deepEqual(trips({ costPerRun: 0.03 }), ['costPerRunRatio']);
  assert.deepEqual(trips({ costPerRun: 0.03 }, { costPerRun: 0 }), [], 'no cost to compare with');
  assert.deepEqual(trips({ toolErrorRate: 0.5 }, {}, { ...a, toolErrorRate: null }), []);
  const t = evaluateAlarms(pair({ toolErrorRate: 0.5 }, { toolErrorRate: 0.02 }), a, 10).tripped[0];
  assert.deepEqual([t?.new, t?.old, t?.threshold], [0.5, 0.02, 0.1]);
  assert.match(t?.reason ?? '', /toolErrorRate 50\.0% vs 2\.0%/);
});

const T0 = 1_000_000;
const rec = (
  strategy: string,
  decisions: [string, number][],
  status: DeploymentLike['status'] = 'in_progress',
): DeploymentLike => ({
  from: 'v1',
  to: 'v2',
  strategy,
  status,
  steps: [['started', T0] as [string, number], ...decisions].map(([decision, at]) => ({
    at,
    weights: {},
    decision,
    reason: '',
  })),
  state: { startWeights: { v1: 100 } },
});

test('decide: started → validate; validated → first shift; shifted → wait until the bake ends, then baked', () => {
  assert.deepEqual(decideDeployment(rec('canary:10:30s', []), T0, null, opts), {
    kind: 'validate',
    phase: 'pre',
  });
  const shift = decideDeployment(rec('canary:10:30s', [['validated', T0 + 1]]), T0 + 2, null, opts);
  assert.equal(shift.kind, 'shift');
  assert.deepEqual(shift.kind === 'shift' && shift.shift.weights, { v1: 90, v2: 10 });
  const baking = rec('canary:10:30s', [
    ['validated', T0 + 1],
    ['shifted', T0 + 2],
  ]);
  const wait = decideDeployment(baking, T0 + 10_000, null, opts);
  assert.deepEqual(wait, { kind: 'wait', until: T0 + 11_000, reason: 'baking 10%' });
  assert.deepEqual(decideDeployment(baking, T0 + 29_500, null, opts), {
    kind: 'wait',
    until: T0 + 30_002,
    reason: 'baking 10%',
  });
  assert.equal(decideDeployment(baking, T0 + 30_002, null, opts).kind, 'baked');
});

test('decide: baked → next shift; the last shift (bake 0) → post-validate; post_validated → succeed', () => {
  const afterBake = rec('canary:10:30s', [
    ['validated', T0 + 1],
    ['shifted', T0 + 2],
    ['baked', T0 + 30_002],
  ]);
  const next = decideDeployment(afterBake, T0 + 30_003, null, opts);
  assert.ok(next.kind === 'shift' && next.index === 1 && next.shift.pct === 100);
  const full = rec('canary:10:30s', [
    ['validated', T0 + 1],
    ['shifted', T0 + 2],
    ['baked', T0 + 30_002],
    ['shifted', T0 + 30_003],
  ]);
  assert.deepEqual(decideDeployment(full, T0 + 30_004, null, opts), { kind: 'validate', phase: 'post' });
  assert.deepEqual(decideDeployment(rec('canary:10:30s', [['post_validated', T0 + 5]]), T0 + 6, null, opts), {
    kind: 'succeed',
  });
  const linearDone = rec('linear:50:10s', [
    ['validated', T0],
    ['shifted', T0],
    ['baked', T0 + 10_000],
    ['shifted', T0 + 10_000],
  ]);
  assert.equal(
    decideDeployment(linearDone, T0 + 15_000, null, opts).kind,
    'wait',
    'the 100% shift bakes too',
  );
  assert.equal(decideDeployment(linearDone, T0 + 20_000, null, opts).kind, 'baked');
  const linearBaked = rec('linear:50:10s', [
    ['validated', T0],
    ['shifted', T0],
    ['baked', T0 + 10_000],
    ['shifted', T0 + 10_000],
    ['baked', T0 + 20_000],
  ]);
  assert.deepEqual(decideDeployment(linearBaked, T0 + 20_001, null, opts), {
    kind: 'validate',
    phase: 'post',
  });
});

test('decide: an alarm in the window wins over everything, even while paused; then a rollback', () => {
  const baking = rec('canary:10:30s', [
    ['validated', T0 + 1],
    ['shifted', T0 + 2],
  ]);
  const bad = pair({ toolErrorRate: 0.5 });
  const a = decideDeployment(baking, T0 + 100, bad, opts);
  assert.ok(a.kind === 'alarm' && a.tripped[0]?.alarm === 'toolErrorRate' && a.figures === bad);
  const paused = rec(
    'canary:10:30s',
    [
      ['validated', T0 + 1],
      ['shifted', T0 + 2],
      ['paused', T0 + 3],
    ],
    'paused',
  );
  assert.equal(decideDeployment(paused, T0 + 100, bad, opts).kind, 'alarm');
  assert.equal(decideDeployment(paused, T0 + 100, pair({}), opts).kind, 'wait');
  assert.equal(
    decideDeployment(baking, T0 + 100, pair({ toolErrorRate: 0.5, finished: 3 }), opts).kind,
    'wait',
  );
  const alarmed = rec('canary:10:30s', [
    ['validated', T0 + 1],
    ['shifted', T0 + 2],
    ['alarm', T0 + 100],
  ]);
  assert.deepEqual(decideDeployment(alarmed, T0 + 101, null, opts), { kind: 'rollback', reason: 'alarm' });
  // Figures are not judged before traffic moved, nor after the deployment ended.
  assert.equal(decideDeployment(rec('canary:10:30s', []), T0, bad, opts).kind, 'validate');
  assert.equal(decideDeployment(rec('canary:10:30s', [], 'rolled_back'), T0, bad, opts).kind, 'wait');
});

test('decide: validation failures fail before traffic and roll back after it; terminal statuses wait forever', () => {
  assert.deepEqual(decideDeployment(rec('canary:10:30s', [['validation_failed', T0]]), T0, null, opts), {
    kind: 'fail',
    reason: 'pre-traffic validation failed',
  });
  const post = rec('all-at-once', [
    ['validated', T0],
    ['shifted', T0],
    ['validation_failed', T0],
  ]);
  assert.equal(decideDeployment(post, T0, null, opts).kind, 'rollback');
  for (const s of ['succeeded', 'rolled_back', 'failed'] as const)
    assert.deepEqual(decideDeployment(rec('all-at-once', [], s), T0, null, opts), {
      kind: 'wait',
      until: null,
      reason: `deployment ${s}`,
    });
});

test('decide: pause stops the bake clock; resume continues it where it stopped; promote post-validates', () => {
  const steps: [string, number][] = [
    ['validated', T0],
    ['shifted', T0],
    ['paused', T0 + 10_000],
  ];
  assert.deepEqual(decideDeployment(rec('canary:10:30s', steps, 'paused'), T0 + 50_000, null, opts), {
    kind: 'wait',
    until: T0 + 51_000,
    reason: 'paused',
  });
  const resumed = rec('canary:10:30s', [...steps, ['resumed', T0 + 60_000]]);
  assert.equal(elapsedSince(resumed, T0, T0 + 70_000), 20_000);
  assert.equal(decideDeployment(resumed, T0 + 70_000, null, opts).kind, 'wait');
  assert.equal(decideDeployment(resumed, T0 + 80_000, null, opts).kind, 'baked');
  const promoted = rec('linear:10:1m', [...steps, ['resumed', T0 + 60_000], ['promoted', T0 + 61_000]]);
  assert.deepEqual(decideDeployment(promoted, T0 + 61_001, null, opts), { kind: 'validate', phase: 'post' });
});

test('decide: a shadow starts, runs for its duration, finishes with its report, then succeeds', () => {
  assert.deepEqual(decideDeployment(rec('shadow:20:1m', []), T0, null, opts), { kind: 'shadow-start' });
  const on = rec('shadow:20:1m', [['shadow_started', T0]]);
  assert.equal(decideDeployment(on, T0 + 59_999, null, opts).kind, 'wait');
  assert.deepEqual(decideDeployment(on, T0 + 60_000, null, opts), { kind: 'shadow-finish' });
  assert.deepEqual(
    decideDeployment(
      rec('shadow:20:1m', [
        ['shadow_started', T0],
        ['shadow_finished', T0 + 60_000],
      ]),
      T0 + 60_001,
      null,
      opts,
    ),
    {
      kind: 'succeed',
    },
  );
});

test('options: defaults apply key by key; replay false turns the replay off', () => {
  const o = resolveDeploymentOptions({
    minRuns: 3,
    alarms: { errorRate: null },
    validation: { replay: false },
  });
  assert.equal(o.minRuns, 3);
  assert.equal(o.evaluateEveryMs, 1000);
  assert.equal(o.alarms.errorRate, null);
  assert.equal(o.alarms.toolErrorRate, 0.1);
  assert.equal(o.validation.replay, false);
  assert.deepEqual(resolveDeploymentOptions({ validation: { replay: { runs: 5 } } }).validation.replay, {
    runs: 5,
    maxDivergenceRate: 0.2,
  });
});

test('figures: a retried tool failure is not a final one; policy denials and refused approvals count as denials', () => {
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>): JournalEvent =>
    ({ runId: 'r', seq: ++seq, at: 1, v: 1, type, data }) as unknown as JournalEvent;
  const events = [
    ev('run.submitted', {
      actorId: 'a',
      sessionId: 's',
      input: 'x',
      channel: 'api',
      lineage: [],
      depth: 0,
      budget: {},
    }),
    ev('tool.started', { callId: 'c1', tool: 't', args: {}, attempt: 1, idempotencyKey: 'r:c1' }),
    ev('tool.failed', { callId: 'c1', tool: 't', attempt: 1, error: {}, retryable: true, nextAttemptAt: 5 }),
    ev('tool.started', { callId: 'c1', tool: 't', args: {}, attempt: 2, idempotencyKey: 'r:c1' }),
    ev('tool.failed', { callId: 'c1', tool: 't', attempt: 2, error: {}, retryable: true }),
    ev('tool.started', { callId: 'c2', tool: 't', args: {}, attempt: 1, idempotencyKey: 'r:c2' }),
    ev('tool.succeeded', { callId: 'c2', tool: 't', attempt: 1, result: 1 }),
  ];
  const f = runFacts(events);
  assert.deepEqual([f.toolCalls, f.toolFailures, f.denied], [2, 1, false]);
  assert.equal(
    runFacts([
      ...events,
      ev('tool.denied', { callId: 'c3', tool: 't', reason: 'policy-denied', message: '' }),
    ]).denied,
    true,
  );
  assert.equal(
    runFacts([
      ...events,
      ev('tool.denied', { callId: 'c3', tool: 't', reason: 'not-permitted', message: '' }),
    ]).denied,
    false,
  );
  assert.equal(
    runFacts([
      ...events,
      ev('approval.decided', { approvalId: 'a', callId: 'c', decision: 'rejected', approver: 'x' }),
    ]).denied,
    true,
  );
  assert.equal(
    runFacts([
      ...events,
      ev('approval.decided', {
        approvalId: 'a',
        callId: 'c',
        decision: 'expired',
        outcome: 'approved',
        approver: 'x',
      }),
    ]).denied,
    false,
  );
  assert.deepEqual(
    [quantile([], 0.95), quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), quantile([5], 0.95)],
    [0, 10, 5],
  );
});

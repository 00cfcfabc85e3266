/**
 * Replay parity (issue 16, must-show 1): the engine and replay share their decisions
 * (core/decisions), so replaying a run against the configuration that recorded it finds nothing to
 * report — for every fixture journal and for 200 seeded runs of a system of several agents, tools
 * and policies on the offline model — while a configuration that adds a deny policy, removes a tool
 * or lowers an approval limit reports a divergence at the step it changes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineAgent, type AgentDefinition } from '../../src/core/agent.ts';
import type { JournalEvent } from '../../src/core/events.ts';
import { parsePolicies, type PolicyRule } from '../../src/core/policy.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { defineTool } from '../../src/core/tool.ts';
import { createOfflineModel } from '../../src/models/offline.ts';
import { loadFixtures, replayFixture } from '../../src/replay/fixtures.ts';
import { formatReplay } from '../../src/replay/format.ts';
import { firstDivergence, replayRun, replayTotals, type ReplayConfig } from '../../src/replay/replay.ts';
import { buildAgents } from '../../src/runtime/agents.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { createSystem, type System } from '../../src/system.ts';
import { createEnterpriseSystem } from '../../examples/enterprise/agents.ts';
import { enterprisePolicies } from '../../examples/enterprise/policies.ts';
import { scriptedAgents, scriptedModelFor, scriptedRouter } from '../fixtures/journals/scripted-system.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'journals');
const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../fixtures/projects/library/switchboard.config.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sb-parity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Orders (lookup, refund, cancel) and accounts (lookup, change e-mail): reads, writes, a financial tool. */
function parityAgents(): AgentDefinition[] {
  const orderId = z
    .string()
    .regex(/^ORD-\d+$/)
    .describe('Order id, like ORD-12');
  const lookup = defineTool({
    name: 'lookup_order',
    description: 'Look up an order by its id: status and total',
    input: z.object({ orderId }),
    risk: 'read',
    idempotent: true,
    run: ({ orderId: id }) => ({ orderId: id, status: 'paid', total: 80 }),
  });
  const refund = defineTool({
    name: 'refund_order',
    description: 'Refund an order: give the money back for an order',
    input: z.object({ orderId, amount: z.number().positive().describe('Amount to refund in dollars') }),
    risk: 'financial',
    idempotent: true,
    run: ({ orderId: id, amount }) => ({ refundId: `REF-${id}`, amount }),
  });
  const cancel = defineTool({
    name: 'cancel_order',
    description: 'Cancel an order that has not shipped',
    input: z.object({ orderId }),
    risk: 'write',
    idempotent: true,
    run: ({ orderId: id }) => ({ orderId: id, cancelled: true }),
  });
  const customerId = z
    .string()
    .regex(/^CUS-\d+$/)
    .describe('Customer id, like CUS-7');
  const customer = defineTool({
    name: 'lookup_customer',
    description: 'Look up a customer account by customer id',
    input: z.object({ customerId }),
    risk: 'read',
    idempotent: true,
    run: ({ customerId: id }) => ({ customerId: id, tier: 'gold' }),
  });
  const email = defineTool({
    name: 'change_email',
    description: 'Change the e-mail address of a customer account',
    input: z.object({ customerId, email: z.email().describe('The new e-mail address') }),
    risk: 'customer-impacting',
    idempotent: true,
    run: ({ customerId: id, email: to }) => ({ customerId: id, email: to }),
  });
  return [
    defineAgent({
      name: 'orders',
      responsibility: 'Orders: lookups, refunds, cancellations',
      instructions: 'You handle orders.',
      tools: [lookup, refund, cancel],
      delegates: ['accounts'],
    }),
    defineAgent({
      name: 'accounts',
      responsibility: 'Customer accounts',
      instructions: 'You handle customer accounts.',
      tools: [customer, email],
    }),
  ];
}

/** Refunds over $100 wait for an approver; cancelling ORD-13 is refused; e-mail changes of CUS-9 wait too. */
const POLICIES: PolicyRule[] = parsePolicies([
  {
    id: 'big-refunds',
    effect: 'require-approval',
    reason: 'Refunds over $100 need a supervisor',
    match: { tool: 'refund_order', args: [{ path: 'amount', op: 'gt', value: 100 }] },
  },
  {
    id: 'no-cancel-13',
    effect: 'deny',
    reason: 'ORD-13 is locked',
    match: { tool: 'cancel_order', args: [{ path: 'orderId', op: 'eq', value: 'ORD-13' }] },
  },
  {
    id: 'vip-email',
    effect: 'require-approval',
    match: { tool: 'change_email', args: [{ path: 'customerId', op: 'eq', value: 'CUS-9' }] },
  },
]);

/** One seeded request: what to ask, and of which agent (none: the default agent). */
function request(random: () => number): { input: string; agent?: string } {
  const n = 1 + Math.floor(random() * 20);
  const amount = [20, 60, 150, 400][Math.floor(random() * 4)];
  const inputs = [
    `Where is my order ORD-${n}?`,
    `Please refund $${amount} for order ORD-${n}`,
    `Cancel order ORD-${n}`,
    `Look up order ORD-${n} and refund $${amount} for it`,
    `Change the email of customer CUS-${n} to user${n}@example.com`,
    `Look up customer CUS-${n}`,
    `Refund order ORD-${n}`,
    'Tell me a joke about databases',
  ];
  const input = inputs[Math.floor(random() * inputs.length)] ?? inputs[0] ?? '';
  const agent = input.includes('CUS-') ? 'accounts' : random() < 0.5 ? 'orders' : undefined;
  return { input, ...(agent ? { agent } : {}) };
}

/** Until the run waits (an approval) or ends. */
async function settled(system: System, runId: string): Promise<void> {
  for (;;) {
    const { status } = await system.get(runId);
    if (status !== 'queued' && status !== 'running') return;
    await sleep(5);
  }
}

const configOf = (system: System, policies: readonly PolicyRule[] = POLICIES): ReplayConfig => ({
  agents: system.agents,
  router: system.routing.router,
  retrievers: system.routing.retrievers,
  defaultAgent: system.routing.defaultAgent,
  policies,
});

describe('replay parity: the engine and replay decide alike', { timeout: 300_000 }, () => {
  let system: System;
  const runs: { runId: string; events: readonly JournalEvent[] }[] = [];
  const source = (id: string) => system.store.journal.read(id);

  before(async () => {
    system = createSystem({
      agents: parityAgents(),
      model: createOfflineModel(),
      policies: POLICIES,
      defaultAgent: 'orders',
      store: createMemoryStore(),
      pollMs: 5,
      onWarning: () => {},
    });
    await system.start();
    const random = mulberry32(16);
    for (let k = 0; k < 200; k++) {
      const { runId } = await system.submit({ actorId: `u${k % 7}`, sessionId: `s${k}`, ...request(random) });
      await settled(system, runId);
      runs.push({ runId, events: await source(runId) });
    }
  });
  after(() => system.stop());

  it('every fixture journal replays with 0 divergences on the system that recorded it', async () => {
    const fixtures = loadFixtures(FIXTURES);
    const enterprise = createEnterpriseSystem({
      dataDir: dir,
      store: createMemoryStore(),
      system: { workers: false, onWarning: () => {} },
    });
    try {
      for (const fixture of fixtures) {
        const scripted = createSystem({
          agents: scriptedAgents(),
          model: scriptedModelFor(),
          router: scriptedRouter,
          store: createMemoryStore(),
          workers: false,
          onWarning: () => {},
        });
        const config =
          fixture.system === 'scripted'
            ? { ...configOf(scripted, []) }
            : configOf(enterprise.system, parsePolicies(enterprisePolicies()));
        const report = await replayFixture(fixture, config);
        assert.equal(firstDivergence(report), null, `${fixture.name}\n${formatReplay(report)}`);
      }
    } finally {
      await enterprise.business.close();
    }
  });

  it('200 seeded runs: replay with the recording configuration reports 0 divergences, and the runs cover every outcome', async () => {
    const seen = new Set<string>();
    for (const { runId, events } of runs) {
      const report = await replayRun(source, runId, configOf(system));
      assert.equal(replayTotals(report).divergences, 0, formatReplay(report));
      for (const e of events) {
        if (e.type === 'tool.denied') seen.add(`denied:${e.data.reason}`);
        else if (
          e.type === 'tool.started' ||
          e.type === 'approval.requested' ||
          e.type === 'route.decided' ||
          e.type === 'delegation.requested'
        )
          seen.add(e.type);
      }
    }
    for (const outcome of ['tool.started', 'approval.requested', 'denied:policy-denied', 'route.decided'])
      assert.ok(seen.has(outcome), `the seeded runs include ${outcome} (saw ${[...seen].join(', ')})`);
  });

  /** The first recorded run that started `tool` (optionally with amount ≤ `maxAmount`). */
  const ranTool = (tool: string, fits: (args: Record<string, unknown>) => boolean = () => true) => {
    for (const r of runs) {
      const e = r.events.find(
        (x) =>
          x.type === 'tool.started' && x.data.tool === tool && fits(x.data.args as Record<string, unknown>),
      );
      if (e) return { runId: r.runId, event: e };
    }
    throw new Error(`no seeded run started ${tool}`);
  };

  it('a configuration that adds a deny policy diverges at the call it now refuses', async () => {
    const { runId, event } = ranTool('lookup_order');
    const policies = [
      ...POLICIES,
      ...parsePolicies([{ id: 'no-lookups', effect: 'deny', match: { tool: 'lookup_order' } }]),
    ];
    const d = firstDivergence(await replayRun(source, runId, configOf(system, policies)));
    assert.ok(d, 'diverges');
    assert.equal(d.kind, 'tool-call');
    assert.equal(d.seq, event.seq, 'names the step: the recorded tool.started');
    assert.deepEqual(d.replayed, { call: 'lookup_order', outcome: 'deny:policy-denied' });
  });

  it('a configuration that lowers an approval limit diverges at the refund that now waits for an approver', async () => {
    const { runId, event } = ranTool('refund_order', (a) => typeof a.amount === 'number' && a.amount <= 100);
    const policies = POLICIES.map((p) =>
      p.id === 'big-refunds'
        ? { ...p, match: { ...p.match, args: [{ path: 'amount', op: 'gt' as const, value: 10 }] } }
        : p,
    );
    const d = firstDivergence(await replayRun(source, runId, configOf(system, policies)));
    assert.equal(d?.kind, 'tool-call');
    assert.equal(d?.seq, event.seq);
    assert.deepEqual(d?.replayed, { call: 'refund_order', outcome: 'approval' });
  });

  it('a configuration that removes a tool diverges at the model step that would be shown other tools', async () => {
    const { runId } = ranTool('cancel_order');
    const defs = parityAgents().map((a) =>
      a.name === 'orders' ? { ...a, tools: a.tools.filter((t) => t.name !== 'cancel_order') } : a,
    );
    const agents = buildAgents(defs, createOfflineModel(), undefined, POLICIES);
    const events = await source(runId);
    const d = firstDivergence(await replayRun(source, runId, { ...configOf(system), agents }));
    assert.equal(d?.kind, 'model-request');
    assert.equal(
      d?.seq,
      events.find((e) => e.type === 'model.requested')?.seq,
      'names the step: the first model request',
    );
    assert.equal(d?.step, 1);
  });

  it('a call the model was not shown is denied by the engine and replay alike', async () => {
    // Hidden by the configuration at replay: the recorded call is now refused at admission.
    const { runId, event } = ranTool('refund_order');
    const agents = new Map(system.agents);
    const orders = agents.get('orders');
    assert.ok(orders);
    agents.set('orders', {
      ...orders,
      tools: new Map([...orders.tools].filter(([n]) => n !== 'refund_order')),
    });
    const d = firstDivergence(await replayRun(source, runId, { ...configOf(system), agents }));
    assert.equal(d?.kind, 'tool-call');
    assert.equal(d?.seq, event.seq);
    assert.deepEqual(d?.replayed, { call: 'refund_order', outcome: 'deny:not-permitted' });
  });
});

describe('replay --with through the real CLI', { timeout: 120_000 }, () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  Object.assign(env, { LEDGER: join(dir, 'ledger.jsonl'), SWITCHBOARD_DATA_DIR: join(dir, 'data') });
  const sb = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args, '--config', LIBRARY], { cwd: dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('switchboard replay <run> --with a configuration adding a deny policy exits 1 naming the step', async () => {
    const ran = await sb('run', 'Find the book The Quiet Harbour in the catalog', '--json');
    assert.equal(ran.code, 0, ran.stderr);
    const runId = (JSON.parse(ran.stdout.trim()) as { runId: string }).runId;
    const deny = join(dir, 'deny.config.ts');
    writeFileSync(
      deny,
      `import base from ${JSON.stringify(LIBRARY)};\nexport default { ...base, policies: [...(base.policies ?? []), { id: 'no-finding', effect: 'deny', match: { tool: 'find_book' } }] };\n`,
    );
    const same = await sb('replay', runId);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    const changed = await sb('replay', runId, '--with', deny, '--json');
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    const out = JSON.parse(changed.stdout) as {
      divergences: number;
      report: { divergence: { kind: string; seq: number; replayed: unknown } };
    };
    assert.equal(out.divergences, 1);
    assert.equal(out.report.divergence.kind, 'tool-call');
    assert.deepEqual(out.report.divergence.replayed, { call: 'find_book', outcome: 'deny:policy-denied' });
    assert.ok(out.report.divergence.seq > 1);
  });
});

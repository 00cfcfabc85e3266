import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { ToolError } from '../../src/core/errors.ts';
import { defineTool, type AnyTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { createDeployments } from '../../src/runtime/deployments.ts';
import { engineOf } from '../../src/system.ts';
import type { DeploymentRecord } from '../../src/store/deployment-port.ts';
import { requirePostgres, startSystem, type Adapter } from '../helpers.ts';

const postgres = await requirePostgres();
const adapters: Adapter[] = ['memory', 'sqlite', ...(postgres ? (['postgres'] as const) : [])];

/** Calls of v2's tool, counted by the test itself (the independent ledger). */
const ledger = { v1: 0, v2: 0 };

const lookup = (version: 'v1' | 'v2', failEveryOther: boolean): AnyTool =>
  defineTool({
    name: 'lookup_order',
    description: 'Look up an order by id',
    input: z.object({ id: z.number().int() }),
    risk: 'read',
    idempotent: true,
    retry: { maxAttempts: 1 },
    run: async ({ id }) => {
      const n = ++ledger[version];
      // Deterministic: every second call of a worse v2 fails for good.
      if (failEveryOther && n % 2 === 0)
        throw new ToolError('order service unavailable', { retryable: false });
      return { id, status: 'shipped' };
    },
  });

const model = policyModel(({ prompt }) =>
  toolResults(prompt).length === 0
    ? { toolCalls: [{ toolName: 'lookup_order', input: { id: 1 } }] }
    : { text: 'Your order has shipped.' },
);

const agentsOf = (worse: boolean) => [
  defineAgent({
    name: 'orders',
    version: 'v1',
    responsibility: 'Orders',
    instructions: 'Be brief.',
    tools: [lookup('v1', false)],
  }),
  defineAgent({
    name: 'orders',
    version: 'v2',
    responsibility: 'Orders',
    instructions: 'Be briefer.',
    tools: [lookup('v2', worse)],
  }),
];

const fast = { evaluateEveryMs: 40, leaseMs: 2_000, minRuns: 6 };

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const decisions = (d: { steps: { decision: string }[] }): string[] => d.steps.map((s) => s.decision);

async function load(system: Awaited<ReturnType<typeof startSystem>>['system'], n: number, prefix: string) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push(
      (
        await system.submit({
          actorId: `${prefix}${i}`,
          sessionId: 's',
          input: 'Where is order 1?',
          agent: 'orders',
        })
      ).runId,
    );
  for (const id of ids) await system.wait(id);
  return ids;
}

for (const adapter of adapters) {
  describe(`deployments on ${adapter}`, () => {
    test('a canary validates, shifts, bakes, goes to 100% and succeeds; the alias follows every shift', async () => {
      const s = await startSystem(adapter, {
        agents: agentsOf(false),
        model,
        deployments: { ...fast, validation: { replay: { runs: 5 } } },
      });
      try {
        await load(s.system, 4, 'before-'); // recorded v1 runs for the pre-traffic replay
        const { deploymentId, status } = await s.system.deployments.deploy({
          agent: 'orders',
          to: 'v2',
          strategy: 'canary:50:300ms',
          by: 'op',
        });
        assert.equal(status, 'in_progress');
        const done = await until('success', async () => {
          const d = await s.system.deployments.get(deploymentId);
          return d.status === 'in_progress' ? undefined : d;
        });
        assert.equal(done.status, 'succeeded', JSON.stringify(done.steps));
        assert.deepEqual(decisions(done), [
          'started',
          'validated',
          'shifted',
          'baked',
          'shifted',
          'post_validated',
          'succeeded',
        ]);
        assert.match(
          done.steps[1]?.reason ?? '',
          /0\/4 recorded runs of v1 diverge on v2/,
          'the replay ran on the 4 recorded runs',
        );
        assert.deepEqual(done.steps[2]?.weights, { v1: 50, v2: 50 });
        assert.deepEqual(done.steps[4]?.weights, { v2: 100 });
        assert.deepEqual((await s.store.deployments.alias('orders', 'live'))?.weights, { v2: 100 });
        const ats = done.steps.map((x) => Date.parse(x.at));
        assert.ok((ats[3] ?? 0) - (ats[2] ?? 0) >= 300, 'the bake lasted its window');
        // The next new session runs on v2.
        const [id] = await load(s.system, 1, 'after-');
        assert.equal((await s.store.runs.get(id ?? ''))?.version, 'v2');
        const views = await s.system.deployments.versions('orders');
        assert.deepEqual(
          views.map((v) => [v.version, v.aliases]),
          [
            ['v1', []],
            ['v2', [{ alias: 'live', weight: 100 }]],
          ],
        );
      } finally {
        await s.close();
      }
    });

    test('a worse version trips the tool error alarm under load and is rolled back with the figures journaled', async () => {
      const s = await startSystem(adapter, {
        agents: agentsOf(true),
        model,
        deployments: { ...fast, validation: { replay: false } },
      });
      try {
        await load(s.system, 6, 'base-');
        const { deploymentId } = await s.system.deployments.deploy({
          agent: 'orders',
          to: 'v2',
          strategy: 'canary:50:60s',
          by: 'op',
        });
        await until('the shift', async () =>
          (await s.system.deployments.get(deploymentId)).steps.some((x) => x.decision === 'shifted')
            ? true
            : undefined,
        );
        let i = 0;
        const done = await until('the rollback', async () => {
          await load(s.system, 4, `load${i++}-`);
          const d = await s.system.deployments.get(deploymentId);
          return d.status === 'in_progress' ? undefined : d;
        });
        assert.equal(done.status, 'rolled_back');
        assert.deepEqual(decisions(done), ['started', 'validated', 'shifted', 'alarm', 'rolled_back']);
        const metrics = done.steps[3]?.metrics as {
          tripped: { alarm: string; new: number; old: number }[];
          new: { finished: number };
        };
        assert.equal(metrics.tripped[0]?.alarm, 'toolErrorRate');
        assert.ok(
          metrics.tripped[0].new >= 0.4 && metrics.tripped[0].old === 0,
          JSON.stringify(metrics.tripped),
        );
        assert.ok(metrics.new.finished >= fast.minRuns);
        assert.ok(ledger.v2 >= fast.minRuns, 'v2 really ran');
        assert.deepEqual((await s.store.deployments.alias('orders', 'live'))?.weights, { v1: 100 });
      } finally {
        await s.close();
      }
    });

    test('pause stops the clock, resume continues, promote goes to 100%; rollback returns the starting weights', async () => {
      const s = await startSystem(adapter, {
        agents: agentsOf(false),
        model,
        deployments: { ...fast, validation: { replay: false } },
      });
      try {
        const api = s.system.deployments;
        const { deploymentId: id } = await api.deploy({
          agent: 'orders',
          to: 'v2',
          strategy: 'linear:10:1h',
          by: 'op',
        });
        await until('the shift', async () =>
          (await api.get(id)).steps.some((x) => x.decision === 'shifted') ? true : undefined,
        );
        await assert.rejects(api.deploy({ agent: 'orders', to: 'v2', strategy: 'all-at-once', by: 'op' }), {
          code: 'conflict',
        });
        await assert.rejects(api.setAlias('orders', 'live', { v1: 100 }, 'op'), { code: 'conflict' });
        assert.equal((await api.pause(id, 'op')).status, 'paused');
        await assert.rejects(api.pause(id, 'op'), { code: 'bad_request' });
        assert.equal((await api.resume(id, 'op')).status, 'in_progress');
        await api.promote(id, 'op');
        const done = await until('post-validation', async () => {
          const d = await api.get(id);
          return d.status === 'succeeded' ? d : undefined;
        });
        assert.deepEqual(decisions(done), [
          'started',
          'validated',
          'shifted',
          'paused',
          'resumed',
          'promoted',
          'post_validated',
          'succeeded',
        ]);
        assert.deepEqual((await s.store.deployments.alias('orders', 'live'))?.weights, { v2: 100 });
        await assert.rejects(api.rollback(id, 'op'), { code: 'bad_request' });
        const back = await api.deploy({ agent: 'orders', to: 'v1', strategy: 'linear:50:1h', by: 'op' });
        await until('the shift back', async () =>
          (await api.get(back.deploymentId)).steps.some((x) => x.decision === 'shifted') ? true : undefined,
        );
        const rolled = await api.rollback(back.deploymentId, 'op');
        assert.equal(rolled.status, 'rolled_back');
        assert.deepEqual((await s.store.deployments.alias('orders', 'live'))?.weights, { v2: 100 });
        await assert.rejects(api.get('dep_nope'), { code: 'not_found' });
        await assert.rejects(
          api.deploy({ agent: 'orders', to: 'v2', strategy: 'canary:5', by: 'op' }),
          /expected all-at-once/,
        );
        await assert.rejects(api.deploy({ agent: 'orders', to: 'v9', strategy: 'all-at-once', by: 'op' }), {
          code: 'bad_request',
        });
        await assert.rejects(
          api.deploy({ agent: 'orders', to: 'v2', strategy: 'all-at-once', by: 'op' }),
          /already has the most weight/,
        );
        // Nothing was written by the refused requests.
        assert.equal((await api.list({ agent: 'orders' })).length, 2);
      } finally {
        await s.close();
      }
    });

    test('two drivers racing on one deployment never write the same step twice (CAS on rev)', async () => {
      const s = await startSystem(adapter, {
        agents: agentsOf(false),
        model,
        workers: false,
        deployments: { validation: { replay: false } },
      });
      try {
        await s.system.start();
        const mk = (owner: string) =>
          // leaseMs 1: the lease lapses at once, so both drivers try every step and only the CAS decides.
          createDeployments({
            store: s.store,
            engine: engineOf(s.system),
            owner,
            newId: (p) => `${p}_${owner}`,
            options: { leaseMs: 1, evaluateEveryMs: 10 },
            onError: () => {},
            onWarning: () => {},
            servedLocally: () => ['orders@v1', 'orders@v2'],
          });
        const a = mk('A');
        const b = mk('B');
        const { deploymentId } = await a.deploy({
          agent: 'orders',
          to: 'v2',
          strategy: 'linear:25:30ms',
          by: 'op',
        });
        let d: DeploymentRecord | null = null;
        for (let i = 0; i < 400; i++) {
          await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
          d = await s.store.deployments.deployment(deploymentId);
          if (d && d.status !== 'in_progress') break;
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.ok(d);
        assert.deepEqual(decisions(d), [
          'started',
          'validated',
          'shifted',
          'baked',
          'shifted',
          'baked',
          'shifted',
          'baked',
          'shifted',
          'baked',
          'post_validated',
          'succeeded',
        ]);
        assert.deepEqual(
          d.steps.filter((x) => x.decision === 'shifted').map((x) => x.weights.v2),
          [25, 50, 75, 100],
        );
        const ats = d.steps.map((x) => x.at);
        assert.deepEqual(
          ats,
          [...ats].sort((x, y) => x - y),
          'steps are ordered',
        );
      } finally {
        await s.close();
      }
    });
  });
}

after(() => {
  assert.ok(ledger.v1 > 0);
});

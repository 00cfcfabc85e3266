/**
 * Must-show 2 (issue 18): a good v2 goes through `linear:25:<every>` to 100% (shifts 25, 50, 75,
 * 100, each baked), then the old version is pruned with keep 1 — a dry run first, which deletes
 * nothing. Through the API until the `versions prune` command lands (then: bin/switchboard.js).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { startSystem } from '../helpers.ts';

let calls = 0;
const lookup = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id',
  input: z.object({ id: z.number().int() }),
  risk: 'read',
  idempotent: true,
  run: async ({ id }) => {
    calls++;
    return { id, status: 'shipped' };
  },
});
const model = policyModel(({ prompt }) =>
  toolResults(prompt).length === 0
    ? { toolCalls: [{ toolName: 'lookup_order', input: { id: 1 } }] }
    : { text: 'Shipped.' },
);
const agents = ['v1', 'v2'].map((version) =>
  defineAgent({
    name: 'orders',
    version,
    responsibility: 'Orders',
    instructions: `Be brief (${version}).`,
    tools: [lookup],
  }),
);

test('a good version goes linear:25 to 100% with every shift baked, then the old version is pruned (dry run first)', async () => {
  const s = await startSystem('sqlite', {
    agents,
    model,
    deployments: { evaluateEveryMs: 30, leaseMs: 2_000, minRuns: 4 },
  });
  try {
    const api = s.system.deployments;
    const { deploymentId } = await api.deploy({
      agent: 'orders',
      to: 'v2',
      strategy: 'linear:25:250ms',
      by: 'op',
    });
    const deadline = Date.now() + 30_000;
    let n = 0;
    let d = await api.get(deploymentId);
    while (d.status === 'in_progress' && Date.now() < deadline) {
      // Load on new sessions while the weights move: the good version trips nothing.
      const id = (
        await s.system.submit({
          actorId: `u${n++}`,
          sessionId: 's',
          input: 'Where is order 1?',
          agent: 'orders',
        })
      ).runId;
      await s.system.wait(id);
      d = await api.get(deploymentId);
    }
    assert.equal(d.status, 'succeeded', JSON.stringify(d.steps.map((x) => [x.decision, x.reason])));
    const shifted = d.steps.filter((x) => x.decision === 'shifted');
    assert.deepEqual(
      shifted.map((x) => x.weights.v2),
      [25, 50, 75, 100],
    );
    assert.equal(d.steps.filter((x) => x.decision === 'baked').length, 4);
    assert.deepEqual(
      d.steps.slice(-2).map((x) => x.decision),
      ['post_validated', 'succeeded'],
    );
    // Every run of the rollout, not the default newest 100 (a fast machine makes more than that at 100%).
    const runs = await s.system.list({ agent: 'orders', limit: n + 10 });
    assert.ok(
      runs.some((r) => r.version === 'v2') && runs.some((r) => r.version === 'v1'),
      'both versions served traffic',
    );
    assert.ok(calls >= n);

    const dry = await api.prune({ keep: 1, dryRun: true });
    assert.deepEqual(dry.pruned, [{ agent: 'orders', version: 'v1' }]);
    assert.equal(dry.dryRun, true);
    assert.deepEqual(
      (await s.store.deployments.versions('orders')).map((v) => v.version),
      ['v1', 'v2'],
      'a dry run deletes nothing',
    );
    const real = await api.prune({ keep: 1 });
    assert.deepEqual(real.pruned, [{ agent: 'orders', version: 'v1' }]);
    assert.match(real.kept.find((k) => k.version === 'v2')?.reason ?? '', /alias live gives it 100%/);
    assert.deepEqual(
      (await s.store.deployments.versions('orders')).map((v) => v.version),
      ['v2'],
    );
    // The journal keeps each run's version after its record is gone.
    const old = runs.find((r) => r.version === 'v1');
    const started = (await s.store.journal.read(old?.runId ?? '')).find((e) => e.type === 'agent.started');
    assert.equal(started?.type === 'agent.started' && started.data.version, 'v1');
  } finally {
    await s.close();
  }
});

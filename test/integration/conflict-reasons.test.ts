/**
 * The runtime's ConflictError reasons, raised through the System as a user of it sees them: a run
 * that is not escalated cannot be reopened (`state`), a second deployment of the same agent and
 * alias is refused (`busy`), and an alias whose compare-and-set keeps losing says `changed`. The
 * store reasons (seq, fenced, moved, duplicate, closed) are in test/contract/store.contract.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineAgent } from '../../src/core/agent.ts';
import { ConflictError } from '../../src/core/errors.ts';
import { policyModel } from '../../src/models/scripted.ts';
import { requirePostgres, startSystem, type Adapter } from '../helpers.ts';

const postgres = await requirePostgres();
const adapters: Adapter[] = ['memory', 'sqlite', ...(postgres ? (['postgres'] as const) : [])];

const agents = ['v1', 'v2'].map((version) =>
  defineAgent({ name: 'orders', version, responsibility: 'Orders', instructions: 'Be brief.', tools: [] }),
);
const model = policyModel(() => ({ text: 'Done.' }));
const operator = { id: 'ops', roles: ['operator'] };

/** The reason a rejected promise's ConflictError carries. */
async function reasonOf(p: Promise<unknown>): Promise<string> {
  const error = await p.then(
    () => assert.fail('expected a ConflictError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConflictError, String(error));
  return error.reason;
}

for (const adapter of adapters) {
  describe(`${adapter}: runtime ConflictError reasons`, { concurrency: 1, timeout: 60_000 }, () => {
    test("state: reopening a run that is not escalated says 'state'", async () => {
      const s = await startSystem(adapter, { agents, model });
      try {
        const { runId } = await s.system.submit({
          actorId: 'a',
          sessionId: 's',
          agent: 'orders',
          input: 'hi',
        });
        await s.system.wait(runId);
        assert.equal(await reasonOf(s.system.escalations.reopen(runId, { by: operator })), 'state');
      } finally {
        await s.close();
      }
    });

    test("busy: a second deployment of the same agent and alias says 'busy'", async () => {
      const s = await startSystem(adapter, { agents, model, deployments: { validation: { replay: false } } });
      try {
        const api = s.system.deployments;
        await api.deploy({ agent: 'orders', to: 'v2', strategy: 'linear:10:1h', by: 'op' });
        const again = api.deploy({ agent: 'orders', to: 'v2', strategy: 'all-at-once', by: 'op' });
        assert.equal(await reasonOf(again), 'busy');
        assert.equal(await reasonOf(api.setAlias('orders', 'live', { v1: 100 }, 'op')), 'busy');
      } finally {
        await s.close();
      }
    });

    test("changed: an alias whose compare-and-set always loses says 'changed'", async () => {
      const s = await startSystem(adapter, { agents, model });
      try {
        // Another writer wins every compare-and-set.
        s.store.deployments.setAlias = () => Promise.resolve(null);
        const lost = s.system.deployments.setAlias('orders', 'live', { v1: 100 }, 'op');
        assert.equal(await reasonOf(lost), 'changed');
      } finally {
        await s.close();
      }
    });
  });
}

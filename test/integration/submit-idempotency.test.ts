/**
 * A caller-wide idempotency key (what batches, schedules and webhooks submit with): one run per key,
 * whatever the actor or session, on every store; metadata is kept with the run; bad values refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineAgent } from '../../src/core/agent.ts';
import { UserError } from '../../src/core/errors.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { journal, ofType, startSystem, requirePostgres, type Adapter } from '../helpers.ts';

const postgres = await requirePostgres();
const echo = defineAgent({ name: 'echo', responsibility: 'Echo', instructions: 'Echo.', tools: [] });

for (const adapter of ['memory', 'sqlite', 'postgres'] as Adapter[]) {
  describe(`submit idempotencyKey on ${adapter}`, { skip: adapter === 'postgres' && !postgres }, () => {
    it('one run per key across actors and sessions; metadata is journaled', async () => {
      const model = scriptedModel([{ text: 'one' }, { text: 'two' }]);
      const { system, close } = await startSystem(adapter, { agents: [echo], model });
      try {
        const first = await system.submit({
          actorId: 'a1',
          sessionId: 's1',
          input: 'hello',
          idempotencyKey: 'batch-1:rec-7',
          metadata: { batchId: 'batch-1', recordId: 'rec-7' },
        });
        const again = await system.submit({
          actorId: 'a2',
          sessionId: 's2',
          input: 'hello again',
          idempotencyKey: 'batch-1:rec-7',
        });
        assert.equal(first.deduplicated, false);
        assert.equal(again.deduplicated, true);
        assert.equal(again.runId, first.runId);
        const other = await system.submit({
          actorId: 'a1',
          sessionId: 's1',
          input: 'x',
          idempotencyKey: 'k2',
        });
        assert.notEqual(other.runId, first.runId);
        const submitted = ofType(await journal(system, first.runId), 'run.submitted')[0]!;
        assert.equal(submitted.data.idempotencyKey, 'batch-1:rec-7');
        assert.deepEqual(submitted.data.metadata, { batchId: 'batch-1', recordId: 'rec-7' });
      } finally {
        await close();
      }
    });

    it('refuses bad keys and metadata with a UserError and creates no run', async () => {
      const { system, close } = await startSystem(adapter, {
        agents: [echo],
        model: scriptedModel([{ text: 'no' }]),
      });
      try {
        const base = { actorId: 'a1', sessionId: 's1', input: 'hi' };
        const bad: object[] = [
          { idempotencyKey: '' },
          { idempotencyKey: 'x'.repeat(1_001) },
          { metadata: ['a'] },
          { metadata: { n: 1 } },
          { metadata: { long: 'y'.repeat(2_001) } },
        ];
        for (const extra of bad)
          await assert.rejects(system.submit({ ...base, ...extra }), UserError, JSON.stringify(extra));
        assert.equal((await system.store.runs.list({})).length, 0);
      } finally {
        await close();
      }
    });
  });
}

/**
 * `system.wait` answers from the events it followed (plus a read of any after them) instead of
 * reading and folding the whole journal again: its answer must be exactly what `system.get` gives
 * for the same run, on every store and however the run ended.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, scriptedModel } from '../../src/models/scripted.ts';
import { ADAPTERS, startSystem } from '../helpers.ts';

const lookup = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id',
  input: z.object({ id: z.number().int() }),
  risk: 'read',
  idempotent: true,
  run: async ({ id }) => ({ id, status: 'shipped', note: undefined }),
});

for (const adapter of ADAPTERS) {
  describe(`system.wait answers as system.get on ${adapter}`, () => {
    it('a completed run, a run failed on its budget, and a wait already aborted', async () => {
      const orders = defineAgent({
        name: 'orders',
        responsibility: 'Answer order questions',
        instructions: 'x',
        tools: [lookup],
      });
      const looping = defineAgent({
        name: 'looping',
        responsibility: 'Loops',
        instructions: 'x',
        tools: [lookup],
        budget: { maxSteps: 2 },
      });
      const model = policyModel(({ prompt }) => {
        const text = JSON.stringify(prompt);
        if (text.includes('finish') && text.includes('shipped')) return { text: 'Order 7 has shipped.' };
        return { toolCalls: [{ toolName: 'lookup_order', input: { id: 7 } }] };
      });
      const { system, close } = await startSystem(adapter, { agents: [orders, looping], model });
      try {
        const done = await system.submit({ actorId: 'u', sessionId: 's1', input: 'finish', agent: 'orders' });
        const completed = await system.wait(done.runId);
        assert.equal(completed.status, 'completed');
        assert.deepStrictEqual(completed, await system.get(done.runId));

        const loop = await system.submit({ actorId: 'u', sessionId: 's2', input: 'loop', agent: 'looping' });
        const failed = await system.wait(loop.runId);
        assert.equal(failed.status, 'failed');
        assert.deepStrictEqual(failed, await system.get(loop.runId));

        const aborted = await system.wait(done.runId, { signal: AbortSignal.abort() });
        assert.deepStrictEqual(aborted, await system.get(done.runId));
      } finally {
        await close();
      }
    });

    it('an escalated run, reopened, and a forgotten (redacted) one', async () => {
      const agent = defineAgent({
        name: 'support',
        responsibility: 'Support',
        instructions: 'x',
        tools: [],
        escalation: true,
      });
      const model = policyModel(({ prompt }) => {
        if (JSON.stringify(prompt).includes('Note from ops')) return { text: 'Resolved with the note.' };
        return {
          toolCalls: [
            { toolName: 'escalate_to_human', input: { summary: 'Legal threat', reason: 'sensitive' } },
          ],
        };
      });
      const { system, close } = await startSystem(adapter, { agents: [agent], model });
      try {
        const a = await system.submit({ actorId: 'u', sessionId: 's1', input: 'I will sue you' });
        const escalated = await system.wait(a.runId);
        assert.equal(escalated.status, 'escalated');
        assert.deepStrictEqual(escalated, await system.get(a.runId));
        await system.escalations.reopen(a.runId, { by: { id: 'ops', roles: ['operator'] }, note: 'credit' });
        const reopened = await system.wait(a.runId);
        assert.equal(reopened.output, 'Resolved with the note.');
        assert.deepStrictEqual(reopened, await system.get(a.runId));

        await system.memory.forget({ actorId: 'u' });
        const forgotten = await system.wait(a.runId);
        assert.equal(forgotten.output, '[redacted]');
        assert.deepStrictEqual(forgotten, await system.get(a.runId));
      } finally {
        await close();
      }
    });

    it('a run answered by a scripted model, waited on while it runs', async () => {
      const agent = defineAgent({
        name: 'orders',
        responsibility: 'Orders',
        instructions: 'x',
        tools: [lookup],
      });
      const model = scriptedModel([
        { toolCalls: [{ toolName: 'lookup_order', input: { id: 7 } }] },
        { text: 'Order 7 has shipped.' },
      ]);
      const { system, close } = await startSystem(adapter, { agents: [agent], model });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's1', input: 'Where is 7?' });
        const run = await system.wait(runId);
        assert.equal(run.output, 'Order 7 has shipped.');
        assert.deepStrictEqual(run, await system.get(runId));
      } finally {
        await close();
      }
    });
  });
}

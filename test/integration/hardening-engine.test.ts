/**
 * Issue 17 (hardening), engine items: admission of built-in tools, poison runs and budgets,
 * memory settings. Real stores (SQLite and PostgreSQL), the real engine and workers.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { journal, ofType, requirePostgres, startSystem, type Adapter } from '../helpers.ts';

const STORES: readonly Adapter[] = ['sqlite', 'postgres'];

/** Agent `a` delegates to `b`, whose write tool records every execution in an independent ledger. */
function delegationSetup() {
  const effects: string[] = [];
  const ship = defineTool({
    name: 'ship',
    description: 'Ship the parcel',
    input: z.object({ parcel: z.string() }),
    risk: 'write',
    run: ({ parcel }) => {
      effects.push(parcel);
      return { shipped: parcel };
    },
  });
  const a = defineAgent({
    name: 'a',
    responsibility: 'Front desk',
    instructions: 'Delegate shipping to b; escalate what you cannot do.',
    tools: [],
    delegates: ['b'],
    escalation: true,
  });
  const b = defineAgent({ name: 'b', responsibility: 'Shipping', instructions: 'Ship.', tools: [ship] });
  const model = policyModel(({ prompt, tools }) => {
    const results = toolResults(prompt);
    if (tools.includes('ship'))
      return results.length
        ? { text: 'Shipped.' }
        : { toolCalls: [{ toolName: 'ship', input: { parcel: 'P-1' } }] };
    if (results.length === 0)
      return { toolCalls: [{ toolName: 'delegate_to_b', input: { task: 'ship parcel P-1' } }] };
    return { text: 'Done.' };
  });
  return { agents: [a, b], model, effects };
}

for (const adapter of STORES) {
  describe(`hardening (engine) on ${adapter}`, () => {
    before(async () => {
      if (adapter === 'postgres') await requirePostgres();
    });

    for (const [label, rule] of [
      ['a policy denying delegate_to_b', { tool: 'delegate_to_b' }],
      ['a policy denying everything for agent a', { agent: 'a' }],
    ] as const) {
      it(`hardening #2: ${label} prevents the delegation; the child never runs`, async () => {
        const { agents, model, effects } = delegationSetup();
        const { system, close } = await startSystem(adapter, {
          agents,
          model,
          defaultAgent: 'a',
          policies: [{ id: 'deny-it', effect: 'deny', reason: 'not allowed here', match: rule }],
        });
        try {
          const { runId } = await system.submit({
            actorId: 'u',
            sessionId: 's',
            input: 'ship it',
            agent: 'a',
          });
          const run = await system.wait(runId);
          assert.equal(run.status, 'completed');
          const events = await journal(system, runId);
          const denied = ofType(events, 'tool.denied');
          assert.deepEqual(
            denied.map((e) => [e.data.tool, e.data.reason]),
            [['delegate_to_b', 'policy-denied']],
          );
          assert.equal(ofType(events, 'delegation.requested').length, 0);
          assert.equal((await system.list({ parentRunId: runId })).length, 0);
          assert.equal((await system.list({})).length, 1, 'no child run exists');
          assert.deepEqual(effects, [], 'the child tool never ran');
        } finally {
          await close();
        }
      });
    }

    it('hardening #2: a deny rule for agent a also stops escalate_to_human; without it, a delegates', async () => {
      const { agents, model, effects } = delegationSetup();
      const escalating = policyModel(({ prompt, tools }) =>
        tools.includes('escalate_to_human') && toolResults(prompt).length === 0
          ? { toolCalls: [{ toolName: 'escalate_to_human', input: { summary: 's', reason: 'r' } }] }
          : { text: 'Done.' },
      );
      const denied = await startSystem(adapter, {
        agents,
        model: escalating,
        defaultAgent: 'a',
        policies: [{ id: 'lock-a', effect: 'deny', match: { agent: 'a' } }],
      });
      try {
        const { runId } = await denied.system.submit({
          actorId: 'u',
          sessionId: 's',
          input: 'x',
          agent: 'a',
        });
        const run = await denied.system.wait(runId);
        assert.equal(run.status, 'completed', 'not escalated');
        const events = await journal(denied.system, runId);
        assert.equal(ofType(events, 'run.escalated').length, 0);
        assert.equal(ofType(events, 'tool.denied')[0]?.data.reason, 'policy-denied');
      } finally {
        await denied.close();
      }
      // The control: with no policy the same script delegates and the child's tool runs once.
      const open = await startSystem(adapter, { agents, model, defaultAgent: 'a' });
      try {
        const { runId } = await open.system.submit({ actorId: 'u', sessionId: 's', input: 'x', agent: 'a' });
        assert.equal((await open.system.wait(runId)).status, 'completed');
        assert.equal((await open.system.list({ parentRunId: runId })).length, 1);
        assert.deepEqual(effects, ['P-1']);
      } finally {
        await open.close();
      }
    });
  });
}

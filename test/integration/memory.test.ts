import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, scriptedModel, type ScriptedModel } from '../../src/models/scripted.ts';
import { mulberry32 } from '../../src/runtime/faults.ts';
import type { SqliteStore } from '../../src/store/sqlite/store.ts';
import { ADAPTERS, journal, ofType, startSystem } from '../helpers.ts';

/** Every text the model was shown, per call. */
const seenTexts = (model: ScriptedModel): string[] => model.calls.map((c) => JSON.stringify(c.prompt));

for (const adapter of ADAPTERS) {
  describe(`memory on ${adapter}`, () => {
    it('a three-turn conversation: turn 3 refers to an order found in turn 1', async () => {
      const refunds: unknown[] = [];
      const searchOrders = defineTool({
        name: 'search_orders',
        description: 'Orders of a customer',
        input: z.object({ email: z.string() }),
        risk: 'read',
        idempotent: true,
        run: () => ({
          orders: [
            { id: 'ORD-100', items: 2 },
            { id: 'ORD-200', items: 1 },
            { id: 'ORD-300', items: 4 },
          ],
        }),
      });
      const refundItem = defineTool({
        name: 'refund_order',
        description: 'Refund an order',
        input: z.object({ orderId: z.string() }),
        risk: 'write',
        run: (args) => (refunds.push(args), { refunded: args.orderId }),
      });
      const agent = defineAgent({
        name: 'commerce',
        responsibility: 'Orders',
        instructions: 'x',
        tools: [searchOrders, refundItem],
      });
      const model = policyModel(({ prompt }) => {
        const text = JSON.stringify(prompt);
        const last = prompt.findLast((m) => m.role === 'user');
        const ask = last?.role === 'user' && last.content[0]?.type === 'text' ? last.content[0].text : '';
        if (prompt.at(-1)?.role === 'tool') return { text: 'Done.' };
        if (ask.startsWith('Show'))
          return { toolCalls: [{ toolName: 'search_orders', input: { email: 'ann@example.com' } }] };
        if (ask.startsWith('Thanks')) return { text: 'You are welcome.' };
        // Turn 3: "the second one" resolves through the replayed working state, in order.
        const list = /list from search_orders, in order: ([A-Z0-9-, ]+)/.exec(text)?.[1]?.split(', ') ?? [];
        assert.ok(text.includes('Show my orders'), 'turn 1 is replayed');
        assert.ok(text.includes('You are welcome.'), 'turn 2 is replayed');
        return list[1]
          ? { toolCalls: [{ toolName: 'refund_order', input: { orderId: list[1] } }] }
          : { text: 'Which order?' };
      });
      const { system, close } = await startSystem(adapter, { agents: [agent], model });
      try {
        for (const input of ['Show my orders', 'Thanks', 'Refund the second one of those orders']) {
          const { runId } = await system.submit({ actorId: 'ann', sessionId: 'chat', input });
          assert.equal((await system.wait(runId)).status, 'completed');
        }
        assert.deepEqual(refunds, [{ orderId: 'ORD-200' }]);
        const last = (await system.list({ actorId: 'ann', limit: 1 }))[0];
        const loaded = ofType(await journal(system, last?.runId ?? ''), 'memory.loaded')[0];
        assert.equal(loaded?.data.status, 'ok');
        assert.equal(loaded?.data.turns, 2);
        assert.deepEqual(loaded?.data.context?.workingState.lists, [
          { from: 'search_orders', ids: ['ORD-100', 'ORD-200', 'ORD-300'] },
        ]);
      } finally {
        await close();
      }
    });

    it('replays at most k turns: with k = 5 the 6th oldest turn is never in the prompt', async () => {
      const model = scriptedModel([{ text: 'ok' }]);
      const agent = defineAgent({
        name: 'chat',
        responsibility: 'Chat',
        instructions: 'x',
        tools: [],
        memory: { k: 5 },
      });
      const { system, close } = await startSystem(adapter, { agents: [agent], model });
      try {
        for (let i = 1; i <= 7; i++)
          await system.wait(
            (await system.submit({ actorId: 'a', sessionId: 's', input: `turn-${i}-marker` })).runId,
          );
        const seventh = seenTexts(model).at(-1) ?? '';
        for (const i of [2, 3, 4, 5, 6, 7])
          assert.ok(seventh.includes(`turn-${i}-marker`), `turn ${i} replayed`);
        assert.ok(!seventh.includes('turn-1-marker'), 'the 6th oldest turn is outside the window');
      } finally {
        await close();
      }
    });

    it('a failing memory store: the run completes stateless and says so', async () => {
      const model = scriptedModel([{ text: 'ok' }]);
      const agent = defineAgent({ name: 'chat', responsibility: 'Chat', instructions: 'x', tools: [] });
      const { system, close } = await startSystem(adapter, {
        agents: [agent],
        model,
        memory: { hooks: { onAgentStart: () => Promise.reject(new Error('memory store unreachable')) } },
      });
      try {
        const { runId } = await system.submit({ actorId: 'a', sessionId: 's', input: 'hello' });
        assert.equal((await system.wait(runId)).status, 'completed');
        const failed = ofType(await journal(system, runId), 'memory.failed')[0];
        assert.equal(failed?.data.error.message, 'memory store unreachable');
      } finally {
        await close();
      }
    });

    it('memory off: memory.loaded says disabled and nothing is replayed', async () => {
      const model = scriptedModel([{ text: 'ok' }]);
      const agent = defineAgent({
        name: 'chat',
        responsibility: 'Chat',
        instructions: 'x',
        tools: [],
        memory: { enabled: false },
      });
      const { system, close } = await startSystem(adapter, { agents: [agent], model });
      try {
        await system.wait(
          (await system.submit({ actorId: 'a', sessionId: 's', input: 'first-secret' })).runId,
        );
        const { runId } = await system.submit({ actorId: 'a', sessionId: 's', input: 'second' });
        await system.wait(runId);
        assert.equal(ofType(await journal(system, runId), 'memory.loaded')[0]?.data.status, 'disabled');
        assert.ok(!(seenTexts(model).at(-1) ?? '').includes('first-secret'));
      } finally {
        await close();
      }
    });

    it('1,000 (actor, session) pairs: no read path returns another actor’s or session’s canary', async () => {
      const random = mulberry32(99);
      const pairs = Array.from({ length: 1000 }, (_, i) => ({
        actor: `actor${Math.floor(random() * 60)}`,
        session: `s${i % 7}`,
        canary: `CANARY${i}X`,
      }));
      const model = policyModel(() => ({ text: 'noted' }));
      const agent = defineAgent({
        name: 'chat',
        responsibility: 'Chat',
        instructions: 'x',
        tools: [],
        concurrency: 16,
      });
      const { system, close } = await startSystem(adapter, { agents: [agent], model, memory: { k: 3 } });
      try {
        const owner = new Map(pairs.map((p) => [p.canary, `${p.actor}/${p.session}`]));
        const actorOf = new Map(pairs.map((p) => [p.canary, p.actor]));
        let next = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next < pairs.length) {
              const p = pairs[next++];
              if (!p) break;
              await system.memory.remember(p.actor, {
                key: `note ${p.canary}`,
                value: `remember ${p.canary}`,
              });
              await system.wait(
                (
                  await system.submit({
                    actorId: p.actor,
                    sessionId: p.session,
                    input: `my code is ${p.canary}`,
                  })
                ).runId,
              );
            }
          }),
        );
        const canaries = (s: string): string[] => s.match(/CANARY\d+X/g) ?? [];
        // 1. What each model call saw: only its own actor's facts and its own session's turns.
        for (const call of model.calls) {
          const text = JSON.stringify(call.prompt);
          const last = call.prompt.findLast((m) => m.role === 'user');
          const own =
            last?.role === 'user' && last.content[0]?.type === 'text'
              ? canaries(last.content[0].text)[0]
              : undefined;
          assert.ok(own);
          const [ownActor] = (owner.get(own) ?? '').split('/');
          for (const c of canaries(text))
            assert.equal(actorOf.get(c), ownActor, `prompt for ${own} leaked ${c}`);
          const turnsPart = JSON.stringify(
            call.prompt.filter((m) => m.role === 'user' || m.role === 'assistant'),
          );
          for (const c of canaries(turnsPart))
            assert.equal(owner.get(c), owner.get(own), `turns for ${own} leaked ${c}`);
        }
        // 2. The library read path.
        for (const p of pairs.slice(0, 200)) {
          const items = await system.memory.list({ actorId: p.actor, sessionId: p.session });
          for (const item of items) {
            for (const c of canaries(JSON.stringify(item))) {
              if (item.kind === 'turn') assert.equal(owner.get(c), `${p.actor}/${p.session}`);
              else assert.equal(actorOf.get(c), p.actor);
            }
          }
        }
      } finally {
        await close();
      }
    });
  });
}

describe('forget (SQLite file)', () => {
  it('leaves no trace of the actor in the database file; other actors still verify', async () => {
    const model = scriptedModel([{ text: 'Your code is safe with me.' }]);
    const agent = defineAgent({ name: 'chat', responsibility: 'Chat', instructions: 'x', tools: [] });
    const { system, close } = await startSystem('sqlite', { agents: [agent], model });
    try {
      for (let i = 0; i < 3; i++)
        await system.wait(
          (await system.submit({ actorId: 'eve', sessionId: `s${i}`, input: `eve secret ZEBRA${i}QUOKKA` }))
            .runId,
        );
      await system.memory.remember('eve', { key: 'pet', value: 'a ZEBRA7QUOKKA named Bob' });
      const bob = await system.submit({ actorId: 'bob', sessionId: 's', input: 'bob keeps his data' });
      await system.wait(bob.runId);
      const path = (system.store as SqliteStore).db.location() ?? '';
      const report = await system.memory.forgetActor('eve', { by: 'dpo' });
      assert.deepEqual({ runs: report.runs, facts: report.facts }, { runs: 3, facts: 1 });
      const bytes = Buffer.concat([
        readFileSync(path),
        ...['-wal'].map((x) => {
          try {
            return readFileSync(path + x);
          } catch {
            return Buffer.alloc(0);
          }
        }),
      ]);
      assert.equal(bytes.includes('QUOKKA'), false, 'no canary left in the database file');
      for (const r of await system.list({ actorId: 'eve' })) {
        assert.equal((await system.verify(r.runId)).ok, true, 'redacted runs still verify (re-based chains)');
        assert.equal(ofType(await journal(system, r.runId), 'run.redacted')[0]?.data.by, 'dpo');
      }
      assert.equal((await system.verify(bob.runId)).ok, true);
      assert.equal((await system.get(bob.runId)).input, 'bob keeps his data');
      assert.deepEqual(await system.memory.facts('eve'), []);
    } finally {
      await close();
    }
  });
});

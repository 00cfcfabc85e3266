import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool, type ToolDefinition } from '../../src/core/tool.ts';
import { policyModel, scriptedModel, toolResults } from '../../src/models/scripted.ts';
import type { FaultPoint, Faults } from '../../src/runtime/faults.ts';
import { parseFaults } from '../../src/runtime/faults.ts';
import { createSystem } from '../../src/system.ts';
import { ADAPTERS, journal, makeStore, ofType, startSystem } from '../helpers.ts';

/** Dies once at `point`, the way a killed process would: the step's commit never happens. */
function crashOnce(point: FaultPoint): Faults & { fired: boolean } {
  const f = {
    fired: false,
    hit(p: FaultPoint) {
      if (p === point && !f.fired) {
        f.fired = true;
        throw new Error(`simulated crash at ${p}`);
      }
    },
  };
  return f;
}

/** A ledger of effects keyed by idempotency key: counts how often each effect really happened. */
function ledgerTool(opts: { idempotent: boolean; reconcile?: boolean }): {
  tool: ToolDefinition<{ amount: number }, unknown>;
  effects: Map<string, number>;
} {
  const effects = new Map<string, number>();
  const tool = defineTool({
    name: 'charge',
    description: 'Charge an amount',
    input: z.object({ amount: z.number() }),
    risk: 'financial',
    idempotent: opts.idempotent,
    run: ({ amount }, ctx) => {
      // An idempotent tool honours the key: a repeat returns the first result without a new effect.
      if (opts.idempotent && effects.has(ctx.idempotencyKey)) return { charged: amount, repeat: true };
      effects.set(ctx.idempotencyKey, (effects.get(ctx.idempotencyKey) ?? 0) + 1);
      return { charged: amount };
    },
    ...(opts.reconcile
      ? {
          reconcile: async (key: string) =>
            effects.has(key)
              ? { status: 'applied' as const, result: { charged: 'already' } }
              : { status: 'not-applied' as const },
        }
      : {}),
  });
  return { tool, effects };
}

const script = () =>
  scriptedModel([{ toolCalls: [{ toolName: 'charge', input: { amount: 5 } }] }, { text: 'Charged.' }]);
const agentWith = (tool: ToolDefinition<{ amount: number }, unknown>) =>
  defineAgent({ name: 'billing', responsibility: 'Charges', instructions: 'x', tools: [tool] });

for (const adapter of ADAPTERS) {
  describe(`recovery on ${adapter}`, () => {
    it('re-runs an in-doubt idempotent call with the same key: one effect', async () => {
      const { tool, effects } = ledgerTool({ idempotent: true });
      const faults = crashOnce('afterToolBeforeJournal');
      const { system, close } = await startSystem(adapter, {
        agents: [agentWith(tool)],
        model: script(),
        faults,
      });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge 5' });
        assert.equal((await system.wait(runId)).status, 'completed');
        assert.ok(faults.fired);
        const started = ofType(await journal(system, runId), 'tool.started');
        assert.deepEqual(
          started.map((e) => e.data.recovery ?? 'first'),
          ['first', 'in-doubt-rerun'],
        );
        assert.equal(started[0]?.data.idempotencyKey, started[1]?.data.idempotencyKey);
        assert.deepEqual([...effects.values()], [1]);
      } finally {
        await close();
      }
    });

    it('asks reconcile(key) about an in-doubt non-idempotent call and does not repeat it', async () => {
      const { tool, effects } = ledgerTool({ idempotent: false, reconcile: true });
      const faults = crashOnce('afterToolBeforeJournal');
      const { system, close } = await startSystem(adapter, {
        agents: [agentWith(tool)],
        model: script(),
        faults,
      });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge 5' });
        assert.equal((await system.wait(runId)).status, 'completed');
        const succeeded = ofType(await journal(system, runId), 'tool.succeeded');
        assert.equal(succeeded[0]?.data.reconciled, true);
        assert.deepEqual([...effects.values()], [1]);
      } finally {
        await close();
      }
    });

    it('runs the call when reconcile says it never took effect', async () => {
      const { tool, effects } = ledgerTool({ idempotent: false, reconcile: true });
      const faults = crashOnce('afterToolStartedCommit');
      const { system, close } = await startSystem(adapter, {
        agents: [agentWith(tool)],
        model: script(),
        faults,
      });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge 5' });
        assert.equal((await system.wait(runId)).status, 'completed');
        const started = ofType(await journal(system, runId), 'tool.started');
        assert.equal(started[1]?.data.recovery, 'reconciled-not-applied');
        assert.deepEqual([...effects.values()], [1]);
      } finally {
        await close();
      }
    });

    it('pauses as needs_attention when an in-doubt call can be neither repeated nor reconciled, then resumes', async () => {
      const { tool, effects } = ledgerTool({ idempotent: false });
      const faults = crashOnce('afterToolBeforeJournal');
      const { system, close } = await startSystem(adapter, {
        agents: [agentWith(tool)],
        model: script(),
        faults,
      });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge 5' });
        const paused = await system.wait(runId, { untilAttention: true });
        assert.equal(paused.status, 'needs_attention');
        assert.match(paused.attention?.reason ?? '', /not idempotent/);
        assert.equal((await system.store.runs.get(runId))?.status, 'needs_attention');
        await assert.rejects(
          system.resolve(runId, { callId: 'nope', resolution: 'retry', by: 'ops' }),
          /no in-doubt call/,
        );
        await system.resolve(runId, {
          callId: paused.attention?.callId ?? '',
          resolution: 'succeeded',
          result: { charged: 5 },
          by: 'ops',
        });
        const done = await system.wait(runId);
        assert.equal(done.status, 'completed');
        assert.deepEqual([...effects.values()], [1]);
        const events = await journal(system, runId);
        assert.equal(ofType(events, 'run.resumed')[0]?.data.by, 'ops');
      } finally {
        await close();
      }
    });

    it('re-issues a model call whose response was never journaled', async () => {
      const { tool } = ledgerTool({ idempotent: true });
      // A policy model answers from the prompt, so the re-issued call gets the same answer.
      const model = policyModel(({ prompt }) =>
        toolResults(prompt).length
          ? { text: 'Charged.' }
          : { toolCalls: [{ toolName: 'charge', input: { amount: 5 } }] },
      );
      const faults = crashOnce('afterModelBeforeJournal');
      const { system, close } = await startSystem(adapter, { agents: [agentWith(tool)], model, faults });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge 5' });
        assert.equal((await system.wait(runId)).status, 'completed');
        assert.equal(ofType(await journal(system, runId), 'model.responded').length, 2);
        assert.equal(model.calls.length, 3);
      } finally {
        await close();
      }
    });
  });
}

describe('recovery across processes (SQLite file)', () => {
  it('a restarted system finishes runs a stopped one left, and the sweeper restores lost wake-ups', async () => {
    const { store, cleanup } = makeStore('sqlite');
    const { tool } = ledgerTool({ idempotent: true });
    try {
      // A gateway-only process accepts runs; nothing works on them.
      const front = createSystem({ agents: [agentWith(tool)], model: script(), store, workers: false });
      await front.start();
      const a = await front.submit({ actorId: 'u', sessionId: 's1', input: 'charge 5' });
      const b = await front.submit({ actorId: 'u', sessionId: 's2', input: 'charge 5' });
      await front.stop();
      // Lose b's wake-up, as a crash between commit and enqueue on another queue technology would.
      await store.commit({ deleteTasks: [b.runId] });
      assert.deepEqual([...(await store.queue.pendingRunIds())], [a.runId]);
      const worker = createSystem({ agents: [agentWith(tool)], model: script(), store, pollMs: 20 });
      await worker.start();
      assert.equal((await worker.wait(a.runId)).status, 'completed');
      assert.equal((await worker.wait(b.runId)).status, 'completed');
      await worker.stop();
    } finally {
      await cleanup();
    }
  });
});

describe('fault spec', () => {
  it('parses a seeded spec and rejects malformed ones', () => {
    let kills = 0;
    const f = parseFaults('seed=7,p=1,points=afterToolBeforeJournal', () => kills++);
    f.hit('afterSubmitCommit');
    f.hit('afterToolBeforeJournal');
    assert.equal(kills, 1);
    assert.throws(() => parseFaults('seed=1,p=2'), /p in \[0,1\]/);
    assert.throws(() => parseFaults('seed=1,colour=red'), /unknown key "colour"/);
    assert.throws(() => parseFaults('points=nowhere'), /unknown point "nowhere"/);
  });
});

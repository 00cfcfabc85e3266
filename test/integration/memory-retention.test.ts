// The in-memory store's retention: finished run trees past `retention.finishedRuns` are dropped,
// oldest first, with their children, approvals and dedup keys; a tree with a run still going, an
// escalated run and the runs within the retention are kept whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { createMemoryStore, DEFAULT_MEMORY_RETENTION } from '../../src/store/memory/store.ts';
import { createSystem, type System } from '../../src/system.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** triage delegates to orders, which calls lookup_order; `slow` input waits on the gate. */
function build(finishedRuns: number) {
  const gate = deferred();
  const lookup = defineTool({
    name: 'lookup_order',
    description: 'Look an order up',
    input: z.object({ id: z.string() }),
    risk: 'read',
    idempotent: true,
    run: async ({ id }) => {
      if (id === 'slow') await gate.promise;
      return { id, status: 'shipped' };
    },
  });
  const model = policyModel(({ prompt, tools }) => {
    const results = toolResults(prompt);
    const text = JSON.stringify(prompt);
    const id = /order (\w+)/.exec(text)?.[1] ?? 'x';
    if (tools.includes('delegate_to_orders'))
      return results.length
        ? { text: `Triage: ${JSON.stringify(results[0]?.output)}` }
        : { toolCalls: [{ toolName: 'delegate_to_orders', input: { task: `Find order ${id}` } }] };
    return results.length
      ? { text: `Order ${id} shipped` }
      : { toolCalls: [{ toolName: 'lookup_order', input: { id } }] };
  });
  const orders = defineAgent({
    name: 'orders',
    responsibility: 'Orders',
    instructions: 'x',
    tools: [lookup],
    concurrency: 4,
  });
  const triage = defineAgent({
    name: 'triage',
    responsibility: 'Triage',
    instructions: 'x',
    tools: [],
    delegates: ['orders'],
    concurrency: 4,
  });
  const store = createMemoryStore({ retention: { finishedRuns } });
  const system = createSystem({
    agents: [triage, orders],
    model,
    store,
    pollMs: 20,
    onError: () => {},
    onWarning: () => {},
  });
  return { system, store, gate };
}

async function runOne(system: System, n: string): Promise<string> {
  const { runId } = await system.submit({
    actorId: 'u1',
    sessionId: `s-${n}`,
    input: `where is order ${n}`,
    agent: 'triage',
    clientMessageId: `m-${n}`,
  });
  const run = await system.wait(runId);
  assert.equal(run.status, 'completed', `run ${n}`);
  return runId;
}

describe('in-memory store retention', () => {
  it('keeps the last N finished trees whole and drops the older ones with their children and dedup keys', async () => {
    const { system, store } = build(3);
    await system.start();
    try {
      const roots: string[] = [];
      for (let i = 1; i <= 6; i++) roots.push(await runOne(system, `o${i}`));
      const rows = await store.runs.list({ limit: 1000 });
      const kept = new Set(rows.map((r) => r.runId));
      for (const root of roots.slice(3)) {
        assert.ok(kept.has(root), `recent root ${root} kept`);
        const children = rows.filter((r) => r.parentRunId === root);
        assert.equal(children.length, 1, 'its delegated child kept with it');
        assert.ok((await store.journal.read(children[0]!.runId)).length > 0, 'the child journal too');
        assert.ok((await store.journal.read(root)).length > 0);
      }
      for (const root of roots.slice(0, 3)) {
        assert.equal(await store.runs.get(root), null, `old root ${root} dropped`);
        assert.deepEqual(await store.journal.read(root), []);
        assert.equal(await store.journal.head(root), null);
      }
      assert.equal(rows.length, 6, 'three roots and their three children, nothing else');
      assert.equal((await store.journal.runIds()).length, 6);
      assert.equal((await store.journal.heads()).length, 6);
      // The dropped run's client message id no longer deduplicates; a kept one still does.
      const key = (n: string): string => `u1\u0000s-${n}\u0000m-${n}`;
      assert.equal(await store.runs.dedup(key('o6'), store.now()), roots[5]);
      assert.equal(await store.runs.dedup(key('o1'), store.now()), null);
    } finally {
      await system.stop();
    }
  });

  it('never drops a tree with a run still going, however many finish after it', async () => {
    const { system, store, gate } = build(2);
    await system.start();
    try {
      const { runId: slow } = await system.submit({
        actorId: 'u1',
        sessionId: 's-slow',
        input: 'where is order slow',
        agent: 'triage',
      });
      for (let i = 1; i <= 5; i++) await runOne(system, `p${i}`);
      const child = (await store.runs.list({ parentRunId: slow }))[0];
      assert.ok(child, 'the slow run delegated');
      assert.ok((await store.journal.read(slow)).length > 0, 'the waiting root is kept');
      assert.ok((await store.journal.read(child.runId)).length > 0, 'so is its running child');
      gate.resolve();
      const done = await system.wait(slow);
      assert.equal(done.status, 'completed', 'it finishes normally after five trees were dropped');
      assert.match(done.output ?? '', /shipped/);
      const roots = (await store.runs.list({ limit: 1000 })).filter((r) => r.parentRunId === null);
      assert.equal(roots.length, 2, 'then the retention applies to it too');
    } finally {
      await system.stop();
    }
  });

  it('keeps everything with Infinity, defaults to DEFAULT_MEMORY_RETENTION and refuses a bad value', async () => {
    const { system, store } = build(Infinity);
    await system.start();
    try {
      for (let i = 1; i <= 4; i++) await runOne(system, `q${i}`);
      assert.equal((await store.journal.runIds()).length, 8);
    } finally {
      await system.stop();
    }
    assert.equal(DEFAULT_MEMORY_RETENTION, 1_000);
    assert.throws(() => createMemoryStore({ retention: { finishedRuns: -1 } }), ConfigError);
    assert.throws(() => createMemoryStore({ retention: { finishedRuns: 1.5 } }), /retention.finishedRuns/);
  });
});

/**
 * Must-show 4 of issue 18, on memory, SQLite and PostgreSQL: the alias `live` splits new sessions
 * by weight, a session stays on its version for every later run, an operator's pin is honoured
 * even at weight 0, a user's pin is refused, and a rollback to weight 0 moves a session's NEXT run.
 *
 * The version that ran is counted from an independent ledger: each version's tool records its own
 * label by run id (the tool of v1 can only write "v1"), and checked against `route.decided.version`
 * in each run's journal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { PermissionError, UserError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import type { Store } from '../../src/store/ports.ts';
import type { System } from '../../src/system.ts';
import { journal, ofType, requirePostgres, startSystem, type Adapter } from '../helpers.ts';

/** runId → the version whose tool ran in it. */
const ledger = new Map<string, string>();

const recorder = (version: string) =>
  defineTool({
    name: 'record_visit',
    description: 'Record the visit',
    input: z.object({}),
    risk: 'read',
    idempotent: true,
    run: async (_args, ctx) => {
      const prev = ledger.get(ctx.runId);
      if (prev !== undefined && prev !== version)
        throw new Error(`run ${ctx.runId} ran on ${prev} and ${version}`);
      ledger.set(ctx.runId, version);
      return { version };
    },
  });

const shop = (version: string) =>
  defineAgent({
    name: 'shop',
    version,
    responsibility: 'Answer shop questions',
    instructions: `Answer as shop ${version}.`,
    tools: [recorder(version)],
    concurrency: 16,
    memory: { enabled: false },
  });

/** Call the tool once, then answer. */
const model = policyModel(({ prompt }) =>
  toolResults(prompt).length === 0
    ? { toolCalls: [{ toolName: 'record_visit', input: {} }] }
    : { text: 'Thanks for visiting.' },
);

async function setWeights(store: Store, weights: Record<string, number>): Promise<void> {
  const current = await store.deployments.alias('shop', 'live');
  const written = await store.deployments.setAlias(
    { agent: 'shop', alias: 'live', weights, updatedAt: store.now(), updatedBy: 'test' },
    current ? current.rev : null,
  );
  assert.ok(written, 'alias written');
  // Every process caches an alias for at most 1 s.
  await new Promise((r) => setTimeout(r, 1_100));
}

/** Submit in batches of `width`, wait for each, and return the run ids in order. */
async function runAll(
  system: System,
  reqs: { actorId: string; sessionId: string }[],
  width = 100,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < reqs.length; i += width) {
    const batch = await Promise.all(
      reqs.slice(i, i + width).map((r) => system.submit({ ...r, input: 'Hello' }).then((s) => s.runId)),
    );
    const views = await Promise.all(batch.map((id) => system.wait(id)));
    for (const v of views) assert.equal(v.status, 'completed', `run ${v.runId}`);
    ids.push(...batch);
  }
  return ids;
}

/** The version route.decided recorded, and whether it was sticky. */
async function routed(system: System, runId: string): Promise<{ version?: string; sticky?: boolean }> {
  const decided = ofType(await journal(system, runId), 'route.decided')[0];
  assert.ok(decided, `run ${runId} was routed`);
  return {
    ...(decided.data.version !== undefined ? { version: decided.data.version } : {}),
    ...(decided.data.sticky !== undefined ? { sticky: decided.data.sticky } : {}),
  };
}

const postgres = await requirePostgres();
const cases: { adapter: Adapter; sessions: number; tolerance: number }[] = [
  { adapter: 'memory', sessions: 2_000, tolerance: 2 },
  { adapter: 'sqlite', sessions: 2_000, tolerance: 2 },
  // PostgreSQL: fewer sessions (each run is several round trips), so a wider band.
  ...(postgres ? [{ adapter: 'postgres' as const, sessions: 300, tolerance: 6 }] : []),
];

for (const { adapter, sessions, tolerance } of cases) {
  describe(`versions routing on ${adapter}`, () => {
    let system: System;
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ system, store, close } = await startSystem(adapter, {
        agents: [shop('v1'), shop('v2')],
        model,
        random: mulberry32(20261202),
        memory: false,
        routerConcurrency: 16,
      }));
    });
    after(async () => close());

    it(`splits ${sessions} new sessions 70/30 (±${tolerance} points) and keeps each session on its version`, async (t) => {
      await setWeights(store, { v1: 70, v2: 30 });
      const reqs = Array.from({ length: sessions }, (_, i) => ({ actorId: `u${i}`, sessionId: `s${i}` }));
      const first = await runAll(system, reqs);
      const bySession = new Map<string, string>();
      let v2 = 0;
      for (const [i, runId] of first.entries()) {
        const version = ledger.get(runId);
        assert.ok(version === 'v1' || version === 'v2', `run ${runId} recorded a version`);
        const r = await routed(system, runId);
        assert.equal(r.version, version, `route.decided.version of ${runId}`);
        assert.notEqual(r.sticky, true, 'a new session is not sticky');
        bySession.set(`s${i}`, version);
        if (version === 'v2') v2++;
      }
      const share = (100 * v2) / sessions;
      t.diagnostic(`v2 share ${share.toFixed(2)}% of ${sessions} sessions`);
      assert.ok(Math.abs(share - 30) <= tolerance, `v2 share ${share.toFixed(2)}% of ${sessions}`);
      // Second and third messages: every session on the version of its first run.
      for (const round of [2, 3]) {
        const ids = await runAll(system, reqs);
        let stayed = 0;
        for (const [i, runId] of ids.entries()) {
          const version = ledger.get(runId);
          const r = await routed(system, runId);
          assert.equal(r.version, version, `round ${round}: route.decided.version of ${runId}`);
          assert.equal(r.sticky, true, `round ${round}: run ${runId} reused the session's version`);
          if (version === bySession.get(`s${i}`)) stayed++;
        }
        assert.equal(stayed, sessions, `round ${round}: sessions on their first version`);
      }
    });

    it('a pin is honoured at weight 0; a user may not pin; an unknown version is refused', async () => {
      await setWeights(store, { v1: 100, v2: 0 });
      const pinned = await system.submit({
        actorId: 'op',
        sessionId: 'pin1',
        input: 'Hello',
        agent: 'shop',
        version: 'v2',
        role: 'operator',
      });
      const byRef = await system.submit({
        actorId: 'lib',
        sessionId: 'pin2',
        input: 'Hello',
        agent: 'shop@v2',
      });
      const unpinned = await system.submit({ actorId: 'lib', sessionId: 'pin3', input: 'Hello' });
      for (const { runId } of [pinned, byRef, unpinned])
        assert.equal((await system.wait(runId)).status, 'completed');
      assert.equal(ledger.get(pinned.runId), 'v2');
      assert.equal(ledger.get(byRef.runId), 'v2');
      assert.equal(ledger.get(unpinned.runId), 'v1');
      const submitted = ofType(await journal(system, pinned.runId), 'run.submitted')[0];
      assert.equal(submitted?.data.version, 'v2');

      const runsBefore = (await store.journal.runIds()).length;
      await assert.rejects(
        system.submit({
          actorId: 'u',
          sessionId: 'x',
          input: 'Hi',
          agent: 'shop',
          version: 'v2',
          role: 'user',
        }),
        PermissionError,
      );
      await assert.rejects(
        system.submit({ actorId: 'u', sessionId: 'x', input: 'Hi', agent: 'shop@v2', role: 'user' }),
        PermissionError,
      );
      await assert.rejects(
        system.submit({ actorId: 'op', sessionId: 'x', input: 'Hi', agent: 'shop@v9', role: 'operator' }),
        (e: unknown) => e instanceof UserError && e.field === 'version',
      );
      await assert.rejects(
        system.submit({ actorId: 'op', sessionId: 'x', input: 'Hi', agent: 'shop', version: 'v9' }),
        UserError,
      );
      assert.equal((await store.journal.runIds()).length, runsBefore, 'a refused submit leaves no run');
    });

    it("a rollback to weight 0 moves a session's next run to the other version", async () => {
      await setWeights(store, { v1: 50, v2: 50 });
      const reqs = Array.from({ length: 40 }, (_, i) => ({ actorId: 'rb', sessionId: `rb${i}` }));
      const first = await runAll(system, reqs);
      const onV2 = reqs.filter((_, i) => ledger.get(first[i]!) === 'v2');
      const onV1 = reqs.filter((_, i) => ledger.get(first[i]!) === 'v1');
      assert.ok(
        onV2.length > 0 && onV1.length > 0,
        `both versions got sessions (${onV1.length}/${onV2.length})`,
      );
      await setWeights(store, { v1: 100, v2: 0 });
      const moved = await runAll(system, onV2);
      for (const runId of moved) {
        assert.equal(ledger.get(runId), 'v1', `run ${runId} after the rollback`);
        const r = await routed(system, runId);
        assert.equal(r.version, 'v1');
        assert.notEqual(r.sticky, true);
      }
      const stayed = await runAll(system, onV1);
      for (const runId of stayed) {
        assert.equal(ledger.get(runId), 'v1');
        assert.equal((await routed(system, runId)).sticky, true);
      }
      // The moved sessions now stick to v1.
      const again = await runAll(system, onV2.slice(0, 5));
      for (const runId of again) assert.equal((await routed(system, runId)).sticky, true);
    });
  });
}

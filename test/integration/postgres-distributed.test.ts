/**
 * Many processes on one PostgreSQL schema, simulated by several stores (each with its own pool,
 * listener and pg-boss instance) in one test process: duplicate deliveries, a stolen lease,
 * cross-process event streams, terminated connections, readiness.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import type { JournalEvent } from '../../src/core/events.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { dropPostgresSchemas, terminateBackends } from '../../src/store/postgres/admin.ts';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/store.ts';
import type { ClaimedTask, Store, TaskSpec } from '../../src/store/ports.ts';
import { createSystem } from '../../src/system.ts';
import { ofType, POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';

/** Call `charge` once, then answer: a pure function of the conversation, the same on every worker. */
const model = () =>
  policyModel(({ prompt }) =>
    toolResults(prompt).length === 0
      ? { toolCalls: [{ toolName: 'charge', input: { amount: 5 } }] }
      : { text: 'Charged.' },
  );

/** An idempotent tool with a shared ledger: effects per idempotency key, and who ran it. */
function ledger(name: string, opts: { delay?: () => Promise<void>; risk?: 'read' | 'write' } = {}) {
  const effects = new Map<string, number>();
  const tool = defineTool({
    name: 'charge',
    description: 'Charge an amount',
    input: z.object({ amount: z.number() }),
    risk: opts.risk ?? 'read',
    idempotent: true,
    run: async ({ amount }, ctx) => {
      await opts.delay?.();
      effects.set(ctx.idempotencyKey, (effects.get(ctx.idempotencyKey) ?? 0) + 1);
      return { charged: amount, by: name };
    },
  });
  return { tool, effects };
}

/**
 * The idempotency key of every run's `charge` call, from the journal (`runId:callId`): each run
 * must have made exactly one call, and the ledger must hold exactly these keys.
 */
async function journaledKeys(store: Store, ids: readonly string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const id of ids) {
    const calls = new Set(
      ofType(await store.journal.read(id), 'tool.started').map((e) => e.data.idempotencyKey),
    );
    assert.equal(calls.size, 1, `run ${id} made ${calls.size} charge calls`);
    keys.push(...calls);
  }
  return keys.sort();
}

/**
 * `tool.started` events per key, as `[key, count]` pairs sorted by key, for runs that made one call
 * each: the first start, then only in-doubt re-runs (asserted), so a re-execution the journal
 * does not explain fails the comparison with the tool's own ledger.
 */
async function startsPerKey(store: Store, ids: readonly string[]): Promise<[string, number][]> {
  await journaledKeys(store, ids); // one charge call per run (asserted there)
  const counts = new Map<string, number>();
  for (const id of ids) {
    const starts = ofType(await store.journal.read(id), 'tool.started');
    starts.slice(1).forEach((e) => assert.equal(e.data.recovery, 'in-doubt-rerun', `run ${id}: a re-run`));
    for (const e of starts) counts.set(e.data.idempotencyKey, (counts.get(e.data.idempotencyKey) ?? 0) + 1);
  }
  return perKey(counts);
}

/** Executions per key, as `[key, count]` pairs sorted by key. */
const perKey = (effects: Map<string, number>): [string, number][] =>
  [...effects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const billing = (tool: ReturnType<typeof ledger>['tool']) =>
  defineAgent({ name: 'billing', responsibility: 'Charges', instructions: 'x', tools: [tool] });

/**
 * Journal rows that repeat a step: a second `tool.started` for the same call, attempt and recovery
 * reason, a second outcome of a call, a second submission, route, agent start or end.
 */
function duplicateRows(events: JournalEvent[], countReruns = true): number {
  const seen = new Set<string>();
  let dups = 0;
  for (const e of events) {
    const d = e.data as { callId?: string; attempt?: number; recovery?: string };
    let key: string | null = null;
    if (e.type === 'tool.started' && (countReruns || !d.recovery))
      key = `${e.type}:${d.callId}:${d.attempt}:${d.recovery ?? ''}`;
    else if (e.type === 'tool.succeeded' || e.type === 'tool.failed')
      key = `${e.type}:${d.callId}:${d.attempt}`;
    else if (
      ['run.submitted', 'route.decided', 'agent.started', 'run.completed', 'run.failed'].includes(e.type)
    )
      key = e.type;
    if (key === null) continue;
    if (seen.has(key)) dups++;
    seen.add(key);
  }
  return dups;
}

const postgres = await requirePostgres();

describe('PostgreSQL: many workers on one schema', { skip: !postgres }, () => {
  const schemas: string[] = [];
  const open = (schema: string, app = 'switchboard-test'): PostgresStore => {
    if (!schemas.includes(schema)) schemas.push(schema);
    return createPostgresStore({ url: POSTGRES_URL, schema, applicationName: app, onError: () => {} });
  };
  after(async () => {
    await dropPostgresSchemas(
      POSTGRES_URL,
      schemas.flatMap((s) => [s, `${s}_boss`]),
    );
  });

  it('delivers every wake-up twice, to two concurrent workers: 0 duplicate journal rows, one call per key', async () => {
    const schema = testSchema();
    const a = open(schema);
    const b = open(schema);
    // The test hook: every wake-up either store announces reaches both workers (on top of pg-boss).
    let deliveries = 0;
    const both = (store: PostgresStore): Store => ({
      ...withClaim(store, (...args) => store.queue.claim(...args)),
      listen: (l) => {
        const counted = { ...l, enqueued: l.enqueued && ((t: TaskSpec) => (deliveries++, l.enqueued?.(t))) };
        const offs = [a.listen(counted), b.listen(counted)];
        return () => offs.forEach((off) => off());
      },
    });
    const { tool, effects } = ledger('both');
    const opts = {
      agents: [billing(tool)],
      model: model(),
      pollMs: 10,
      errorRetryMs: 10,
      onError: () => {},
      onWarning: () => {},
    };
    const sysA = createSystem({ ...opts, store: both(a) });
    const sysB = createSystem({ ...opts, store: both(b) });
    await sysA.start();
    await sysB.start();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++)
        ids.push(
          (await (i % 2 ? sysA : sysB).submit({ actorId: 'u', sessionId: `s${i}`, input: `charge ${i}` }))
            .runId,
        );
      let dups = 0;
      for (const id of ids) {
        assert.equal((await sysA.wait(id)).status, 'completed');
        dups += duplicateRows(await a.journal.read(id));
      }
      assert.ok(deliveries >= 2 * ids.length, `${deliveries} deliveries`);
      assert.equal(dups, 0);
      // Every run's key, and each executed exactly once.
      assert.deepEqual(
        perKey(effects),
        (await journaledKeys(a, ids)).map((k) => [k, 1]),
      );
    } finally {
      await sysA.stop();
      await sysB.stop();
      await a.close();
      await b.close();
    }
  });

  it('hardening #17: hands every claimed task, with the same fence, to a second worker: every step recorded once, one key per call, run at most once per holder', async () => {
    const schema = testSchema();
    const a = open(schema);
    const b = open(schema);
    // The test hook: every task worker A claims is also handed, with the same fence, to worker B.
    const handed: ClaimedTask[] = [];
    let duplicates = 0;
    const tee: Store = withClaim(a, async (q, owner, limit, leaseMs) => {
      const claimed = await a.queue.claim(q, owner, limit, leaseMs);
      handed.push(...claimed);
      return claimed;
    });
    const twin: Store = withClaim(b, async (q, owner, limit, leaseMs) => {
      const mine = handed.filter((t) => t.queue === q).splice(0, limit);
      for (const t of mine) handed.splice(handed.indexOf(t), 1);
      duplicates += mine.length;
      const own = await b.queue.claim(q, owner, limit - mine.length, leaseMs);
      return [...mine, ...own];
    });
    const { tool, effects } = ledger('both');
    const opts = {
      agents: [billing(tool)],
      model: model(),
      pollMs: 10,
      errorRetryMs: 10,
      onError: () => {},
      onWarning: () => {},
    };
    const sysA = createSystem({ ...opts, store: tee });
    const sysB = createSystem({ ...opts, store: twin });
    await sysA.start();
    await sysB.start();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++)
        ids.push((await sysA.submit({ actorId: 'u', sessionId: `s${i}`, input: `charge ${i}` })).runId);
      let dups = 0;
      for (const id of ids) {
        assert.equal((await sysA.wait(id)).status, 'completed');
        const events = await a.journal.read(id);
        // Two holders of one fence (a lease bug) can each find the other's call in doubt and rerun
        // it: those reruns are journaled as such; no step is recorded twice.
        dups += duplicateRows(events, false);
        assert.deepEqual(
          events.map((e) => e.seq),
          events.map((_, i) => i + 1),
        );
      }
      assert.ok(duplicates > 0, `${duplicates} duplicate deliveries`);
      assert.equal(dups, 0);
      // Both holders of the fence may run the read-only idempotent call (its start rides with the
      // outcome's commit, so the loser learns it lost only then): with the same key, at most once
      // each; never a third time, never under a second key, never zero times.
      const keys = await journaledKeys(a, ids);
      assert.deepEqual(
        perKey(effects).map(([k]) => k),
        keys,
      );
      for (const [key, n] of perKey(effects)) assert.ok(n === 1 || n === 2, `${key} ran ${n} times`);
    } finally {
      await sysA.stop();
      await sysB.stop();
      await a.close();
      await b.close();
    }
  });

  it('refuses every append of a slow worker whose lease was stolen: 0 stale appends', async () => {
    const schema = testSchema();
    const slowStore = open(schema);
    const freshStore = open(schema);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let entered: () => void = () => {};
    const inTool = new Promise<void>((r) => (entered = r));
    const slow = ledger('slow', {
      delay: async () => {
        entered();
        await gate;
      },
    });
    const fresh = ledger('fresh');
    const common = { model: model(), pollMs: 10, errorRetryMs: 10, onError: () => {}, onWarning: () => {} };
    // The slow worker claims one task and then nothing more (it is busy in its tool).
    let claims = 0;
    const oneClaim = withClaim(slowStore, async (q, owner, limit, leaseMs) => {
      if (q !== 'agent:billing') return slowStore.queue.claim(q, owner, limit, leaseMs);
      if (claims > 0) return [];
      const got = await slowStore.queue.claim(q, owner, limit, leaseMs);
      claims += got.length;
      return got;
    });
    const slowSys = createSystem({
      ...common,
      agents: [billing(slow.tool)],
      store: oneClaim,
      leaseMs: 60_000,
    });
    await slowSys.start();
    const freshSys = createSystem({ ...common, agents: [billing(fresh.tool)], store: freshStore });
    try {
      const { runId } = await slowSys.submit({ actorId: 'u', sessionId: 's', input: 'charge' });
      await inTool;
      // Steal: the lease expires (a long GC pause, a partition) and another worker claims the run.
      await freshStore.pool.query(`UPDATE "${schema}".tasks SET lease_expires = 0 WHERE run_id = $1`, [
        runId,
      ]);
      await freshSys.start();
      assert.equal((await freshSys.wait(runId)).status, 'completed');
      // Now the slow worker's tool returns; everything it tries to append must be refused.
      const before = await freshStore.journal.read(runId);
      release();
      await slowSys.stop();
      const afterRows = await freshStore.journal.read(runId);
      assert.deepEqual(
        afterRows.map((e) => e.seq),
        before.map((e) => e.seq),
      );
      const outcomes = ofType(afterRows, 'tool.succeeded');
      assert.equal(outcomes.length, 1);
      assert.deepEqual(outcomes[0]?.data.result, { charged: 5, by: 'fresh' });
      assert.equal(duplicateRows(afterRows), 0);
    } finally {
      release();
      await slowSys.stop();
      await freshSys.stop();
      await slowStore.close();
      await freshStore.close();
    }
  });

  // The bound is far below the gateway's 60 s poll: a follower that waited for the poll fails here.
  it(
    "streams another process's appends to a gateway's follower at once (LISTEN/NOTIFY), poll disabled",
    { timeout: 30_000 },
    async () => {
      const schema = testSchema();
      const workerStore = open(schema);
      const gatewayStore = open(schema);
      const { tool } = ledger('w');
      const worker = createSystem({
        agents: [billing(tool)],
        model: model(),
        store: workerStore,
        pollMs: 20,
        onError: () => {},
        onWarning: () => {},
      });
      // The gateway polls the journal only once a minute: seeing events promptly proves the notices.
      const gateway = createSystem({
        agents: [billing(tool)],
        model: model(),
        store: gatewayStore,
        workers: false,
        pollMs: 60_000,
        onWarning: () => {},
      });
      await gateway.start();
      await gatewayStore.ready();
      try {
        const { runId } = await gateway.submit({ actorId: 'u', sessionId: 's', input: 'charge' });
        const seen: string[] = [];
        const follow = (async () => {
          for await (const e of gateway.events(runId)) seen.push(e.type);
        })();
        await worker.start();
        await follow;
        assert.equal(seen[0], 'run.submitted');
        assert.equal(seen.at(-1), 'run.completed');
        assert.deepEqual(
          seen,
          (await gatewayStore.journal.read(runId)).map((e) => e.type),
        );
      } finally {
        await worker.stop();
        await gateway.stop();
        await workerStore.close();
        await gatewayStore.close();
      }
    },
  );

  it('survives its connections being terminated mid-run, again and again: every run completes, one effect each', async () => {
    const schema = testSchema();
    const app = `switchboard-kill-${schema}`;
    const store = open(schema, app);
    // A write (idempotent): its start is committed before the effect. A read-only idempotent call's
    // start rides with the next commit, so a lost commit re-issues the model call and reads again
    // with no journaled start (tools.ts) — harmless for a read, and not what this test counts.
    const { tool, effects } = ledger('w', {
      delay: () => new Promise((r) => setTimeout(r, 20)),
      risk: 'write',
    });
    const sys = createSystem({
      agents: [billing(tool)],
      model: model(),
      store,
      pollMs: 50,
      errorRetryMs: 50,
      leaseMs: 2000,
      onError: () => {},
      onWarning: () => {},
    });
    await sys.start();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++)
        ids.push((await sys.submit({ actorId: 'u', sessionId: `s${i}`, input: 'x' })).runId);
      let killed = 0;
      for (let k = 0; k < 5; k++) {
        await new Promise((r) => setTimeout(r, 60));
        killed += await terminateBackends(POSTGRES_URL, app);
      }
      assert.ok(killed > 0);
      for (const id of ids) assert.equal((await sys.wait(id)).status, 'completed');
      for (const id of ids) assert.equal(duplicateRows(await store.journal.read(id)), 0);
      // Every run's key executed once, plus once per journaled in-doubt re-run: a commit retried
      // across a terminated connection never re-runs the tool. Only a COMMIT cut off in flight is
      // ambiguous (CommitUnknownError); when it did not apply, the next claim finds the call
      // started and unfinished and re-runs this idempotent tool with the same key, journaled as
      // `recovery: 'in-doubt-rerun'`: the documented path, which the tool's key makes one effect.
      assert.deepEqual(perKey(effects), await startsPerKey(store, ids));
      const health = await store.health();
      assert.equal(health.database, true);
    } finally {
      await sys.stop();
      await store.close();
    }
  });

  it('reports readiness from the database connection', async () => {
    const store = open(testSchema());
    try {
      assert.equal((await store.health()).database, true);
    } finally {
      await store.close();
    }
    const down = createPostgresStore({
      url: 'postgres://postgres@127.0.0.1:1/none',
      retry: { attempts: 1 },
      wakeups: false,
      notify: false,
      onError: () => {},
    });
    const health = await down.health();
    assert.equal(health.ok, false);
    assert.equal(health.database, false);
    await down.close();
  });
});

/** A view of `store` whose queue claims through `claim`. */
function withClaim(store: Store, claim: Store['queue']['claim']): Store {
  return {
    kind: store.kind,
    journal: store.journal,
    queue: { ...store.queue, claim },
    runs: store.runs,
    approvals: store.approvals,
    facts: store.facts,
    chain: store.chain,
    ledger: store.ledger,
    batches: store.batches,
    schedules: store.schedules,
    deployments: store.deployments,
    now: () => store.now(),
    commit: (unit) => store.commit(unit),
    listen: (listener) => store.listen(listener),
    close: () => store.close(),
  };
}

/**
 * Issue 18, must-show 6: on PostgreSQL, worker process A serves shop@v1 only and worker process B
 * serves shop@v1 and shop@v2. With the alias `live` at 50/50, no v2 run is ever executed by A (the
 * ledger the tool writes from inside each worker names the pid and version of every execution);
 * stopping B makes shop@v2 "not served", and a v2-pinned run then waits instead of going to A.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { TERMINAL_STATUSES } from '../../src/core/run-state.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel } from '../../src/models/scripted.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { createSystem, type System } from '../../src/system.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';
import { childEnv, stop, waitOutput, within, type Proc } from './fixtures/scale/processes.ts';

const WORKER = fileURLToPath(new URL('./fixtures/versions/worker.ts', import.meta.url));
const RUNS = 60;

const postgres = await requirePostgres();

/** Start the worker fixture as a child process (same shape as the scale test's processes). */
function startWorker(name: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [WORKER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let ended = false;
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = true;
      resolve({ code, signal });
    });
  });
  return { name, child, output: () => out, exited, done: () => ended };
}

/** Poll `probe` until it returns a value, at most `ms`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

describe(
  'agent versions across worker processes on PostgreSQL',
  { timeout: 150_000, skip: !postgres },
  () => {
    const schema = testSchema();
    const ledgerSchema = `${schema}_ledger`;
    const ledger = `"${ledgerSchema}".runs`;
    const store = createPostgresStore({ url: POSTGRES_URL, schema, onError: () => {} });
    const db = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const procs: Proc[] = [];
    let system: System;
    let a: Proc;
    let b: Proc;

    // The submitting process: the same agents, no workers (it only submits and reads).
    const noop = defineTool({
      name: 'record_visit',
      description: 'Record that the shop served this run',
      input: z.object({}),
      risk: 'read',
      idempotent: true,
      run: async () => ({ recorded: true }),
    });

    before(async () => {
      await store.ready();
      await db.query(`CREATE SCHEMA "${ledgerSchema}"`);
      await db.query(
        `CREATE TABLE ${ledger} (seq bigserial PRIMARY KEY, run_id text NOT NULL, version text NOT NULL, pid int NOT NULL)`,
      );
      system = createSystem({
        agents: ['v1', 'v2'].map((version) =>
          defineAgent({
            name: 'shop',
            version,
            responsibility: 'The shop',
            instructions: `Serve the customer (${version}).`,
            tools: [noop],
          }),
        ),
        model: policyModel(() => ({ text: 'unused' })),
        store,
        workers: false,
        onWarning: () => {},
      });
      await system.start();
      const rev = (await store.deployments.alias('shop', 'live'))?.rev ?? null;
      const set = await store.deployments.setAlias(
        {
          agent: 'shop',
          alias: 'live',
          weights: { v1: 50, v2: 50 },
          updatedAt: store.now(),
          updatedBy: 'test',
        },
        rev,
      );
      assert.ok(set, 'alias live set to 50/50');
      const env = (only: string) =>
        childEnv({ SB_PG_URL: POSTGRES_URL, SB_SCHEMA: schema, SB_LEDGER: ledger, SB_ONLY: only });
      a = startWorker('worker A (shop@v1)', env('shop@v1'));
      b = startWorker('worker B (shop@v1, shop@v2)', env(''));
      procs.push(a, b);
      await Promise.all(procs.map((p) => waitOutput(p, '"ready":true', 30_000)));
    });

    after(async () => {
      await Promise.all(procs.map((p) => stop(p)));
      await system?.stop();
      await store.close();
      await db.end();
      await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`, ledgerSchema]);
    });

    const ledgerRows = async (): Promise<{ run_id: string; version: string; pid: number }[]> =>
      (
        await db.query<{ run_id: string; version: string; pid: number }>(
          `SELECT run_id, version, pid FROM ${ledger} ORDER BY seq`,
        )
      ).rows;

    it('no v2 run is ever taken by A; both versions ran, each run on the version routing gave it', async (t) => {
      const pidA = a.child.pid!;
      const pidB = b.child.pid!;
      const ids = await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          system.submit({ actorId: `u${i}`, sessionId: `s${i}`, input: `order ${i}` }).then((r) => r.runId),
        ),
      );
      await within(
        until(
          'every run terminal',
          async () => {
            const views = await Promise.all(ids.map((id) => system.get(id)));
            return views.every((v) => TERMINAL_STATUSES.has(v.status)) ? views : undefined;
          },
          90_000,
        ),
        95_000,
        'all runs done',
        procs,
      );
      const rows = await ledgerRows();
      const byRun = new Map(rows.map((r) => [r.run_id, r]));
      const projection = new Map((await system.list({ limit: 1000 })).map((r) => [r.runId, r]));
      for (const id of ids) {
        const view = await system.get(id);
        assert.equal(view.status, 'completed', `${id}: ${JSON.stringify(view)}`);
        assert.equal(rows.filter((r) => r.run_id === id).length, 1, `${id} executed its tool exactly once`);
        const row = byRun.get(id)!;
        assert.ok(row.pid === pidA || row.pid === pidB, `${id} ran in a worker process (pid ${row.pid})`);
        assert.equal(projection.get(id)?.version, row.version, `${id}: the projection's version ran`);
        if (row.version === 'v2') assert.equal(row.pid, pidB, `${id} is a v2 run: only B may execute it`);
      }
      const v1 = rows.filter((r) => r.version === 'v1');
      const v2 = rows.filter((r) => r.version === 'v2');
      t.diagnostic(
        `v1: ${v1.length} (A ${v1.filter((r) => r.pid === pidA).length}, B ${v1.filter((r) => r.pid === pidB).length}); ` +
          `v2: ${v2.length} (A ${v2.filter((r) => r.pid === pidA).length}, B ${v2.filter((r) => r.pid === pidB).length})`,
      );
      assert.ok(v1.length > 0 && v2.length > 0, 'the 50/50 alias sent runs to both versions');
      assert.equal(v2.filter((r) => r.pid === pidA).length, 0, 'no v2 row was written by A');
      assert.ok(
        v1.some((r) => r.pid === pidA),
        'A served v1 runs (the path under test ran on A)',
      );
      assert.deepEqual(await system.deployments.unserved(), [], 'both versions are served while B runs');
    });

    it("stopping B raises 'version not served' for shop@v2, and a v2-pinned run waits instead of going to A", async () => {
      await stop(b);
      assert.deepEqual(await b.exited, { code: 0, signal: null }, b.output());
      const unserved = await until(
        'shop@v2 listed as not served',
        async () => {
          const list = await system.deployments.unserved();
          return list.some((u) => u.agent === 'shop' && u.version === 'v2') ? list : undefined;
        },
        30_000,
      );
      const v2 = unserved.find((u) => u.version === 'v2')!;
      assert.match(v2.reason, /no live worker serves it/);
      assert.ok(!unserved.some((u) => u.version === 'v1'), `A still serves v1: ${JSON.stringify(unserved)}`);

      const before = (await ledgerRows()).length;
      const { runId } = await system.submit({
        actorId: 'pin',
        sessionId: 'pin',
        input: 'pinned',
        agent: 'shop',
        version: 'v2',
      });
      // A keeps working (a v1 run completes meanwhile) while the pinned v2 run stays unclaimed.
      const { runId: v1Run } = await system.submit({
        actorId: 'pin1',
        sessionId: 'pin1',
        input: 'pinned v1',
        agent: 'shop',
        version: 'v1',
      });
      await within(
        system.wait(v1Run),
        30_000,
        'the v1 run on A',
        procs.filter((p) => p !== b),
      );
      await delay(3_000);
      const view = await system.get(runId);
      assert.ok(!TERMINAL_STATUSES.has(view.status), `the v2 run waits (${view.status})`);
      const rows = await ledgerRows();
      assert.equal(rows.filter((r) => r.run_id === runId).length, 0, 'nobody executed the v2 run');
      assert.deepEqual(
        rows.slice(before).map((r) => [r.run_id, r.version, r.pid]),
        [[v1Run, 'v1', a.child.pid]],
        'only the v1 run ran, on A',
      );
      const row = (await system.list({ limit: 1000 })).find((r) => r.runId === runId);
      assert.equal(row?.version, 'v2');
      assert.ok(
        (await system.deployments.unserved()).some((u) => u.version === 'v2'),
        'shop@v2 is still listed as not served',
      );
    });
  },
);

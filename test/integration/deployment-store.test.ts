/**
 * The deployment port's contract (test/contract/deployments.contract.ts) on memory, SQLite and
 * PostgreSQL, plus the upgrade: a database at the migration before issue 18 (SQLite 7,
 * PostgreSQL 8) migrates cleanly, keeps its runs (read back with version null) and takes
 * deployments.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { ident, PG_MIGRATIONS } from '../../src/store/postgres/schema.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import type { Store } from '../../src/store/ports.ts';
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { deploymentsContract, type DeploymentHarness } from '../contract/deployments.contract.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';

const postgres = await requirePostgres();

/** A trigger that fails every write of one alias: the step written with it must roll back. */
const failTrigger = (table: string, alias: string): string[] => [
  `CREATE TRIGGER fail_alias_ins BEFORE INSERT ON ${table} WHEN NEW.alias = '${alias}' BEGIN SELECT RAISE(ABORT, 'alias write failed'); END`,
  `CREATE TRIGGER fail_alias_upd BEFORE UPDATE ON ${table} WHEN NEW.alias = '${alias}' BEGIN SELECT RAISE(ABORT, 'alias write failed'); END`,
];

deploymentsContract(
  'memory',
  async (fn) => {
    await fn({ store: createMemoryStore(), openTwin: null, failAliasWrites: null });
  },
  { canFailAliasWrites: false },
);

deploymentsContract('sqlite', async (fn) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-deploy-'));
  const path = join(dir, 'switchboard.db');
  const store = createSqliteStore({ path });
  try {
    await fn({
      store,
      openTwin: () => createSqliteStore({ path }),
      failAliasWrites: async (alias) => {
        for (const sql of failTrigger('agent_aliases', alias)) store.db.exec(sql);
      },
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

if (postgres)
  deploymentsContract('postgres', async (fn) => {
    const schema = testSchema();
    const open = (): Store => createPostgresStore({ url: POSTGRES_URL, schema, onError: () => {} });
    const store = open();
    const harness: DeploymentHarness = {
      store,
      openTwin: open,
      failAliasWrites: async (alias) => {
        const c = new pg.Client({ connectionString: POSTGRES_URL });
        await c.connect();
        try {
          const s = ident(schema);
          await c.query(
            `CREATE FUNCTION ${s}.fail_alias() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.alias = '${alias}' THEN RAISE EXCEPTION 'alias write failed'; END IF; RETURN NEW; END $$`,
          );
          await c.query(
            `CREATE TRIGGER fail_alias BEFORE INSERT OR UPDATE ON ${s}.agent_aliases FOR EACH ROW EXECUTE FUNCTION ${s}.fail_alias()`,
          );
        } finally {
          await c.end();
        }
      },
    };
    try {
      await fn(harness);
    } finally {
      await store.close();
      await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
    }
  });

const OLD_RUN = `INSERT INTO runs (run_id, actor_id, session_id, agent, status, parent_run_id, created_at, updated_at, last_seq, summary)
  VALUES ('old', 'a', 's', 'commerce', 'completed', NULL, 1, 1, 2, 'kept')`;

/** An upgraded store: the old run reads back with version null, and the new tables work. */
async function checkUpgraded(store: Store): Promise<void> {
  const old = await store.runs.get('old');
  assert.deepEqual([old?.summary, old?.version], ['kept', null]);
  assert.deepEqual(
    (await store.runs.list({ agent: 'commerce', createdAfter: 1 })).map((r) => r.runId),
    ['old'],
  );
  assert.equal(
    await store.deployments.createDeployment({
      deploymentId: 'd1',
      agent: 'commerce',
      alias: 'live',
      from: 'v1',
      to: 'v2',
      strategy: 'all-at-once',
      status: 'in_progress',
      steps: [],
      state: {},
      createdAt: 1,
      updatedAt: 1,
      createdBy: 'op',
      rev: 1,
      owner: null,
      leaseUntil: null,
    }),
    true,
  );
  assert.equal((await store.deployments.deployment('d1'))?.rev, 1);
}

describe('issue 18: upgrading a store from the migration before deployments', () => {
  it('issue 18 upgrade: a SQLite file at migration 7 migrates to 8 and keeps its runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-deploy-upgrade-'));
    const path = join(dir, 'switchboard.db');
    let store: SqliteStore | undefined;
    try {
      const before = MIGRATIONS.filter((m) => m.version < 8);
      assert.equal(before.length, 7);
      const db = new DatabaseSync(path);
      db.exec(
        'CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      for (const m of before) {
        db.exec(m.sql);
        db.prepare('INSERT INTO migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      db.exec(OLD_RUN);
      db.close();
      store = createSqliteStore({ path });
      const versions = store.db.prepare('SELECT version FROM migrations ORDER BY version').all();
      assert.deepEqual(
        versions.map((r) => r.version),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      await checkUpgraded(store);
    } finally {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('issue 18 upgrade: a PostgreSQL schema at migration 8 migrates to 9 and keeps its runs', async (t) => {
    if (!postgres) return t.skip('PostgreSQL not reachable');
    const schema = testSchema();
    const s = ident(schema);
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    let store: Store | undefined;
    try {
      const before = PG_MIGRATIONS.filter((m) => m.version < 9);
      assert.equal(before.length, 8);
      await c.query(`CREATE SCHEMA ${s}`);
      await c.query(
        `CREATE TABLE ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
      );
      for (const m of before) {
        await c.query(m.sql(s));
        await c.query(`INSERT INTO ${s}.migrations VALUES ($1, $2, 0)`, [m.version, m.name]);
      }
      await c.query(OLD_RUN.replace('INSERT INTO runs', `INSERT INTO ${s}.runs`));
      store = createPostgresStore({ url: POSTGRES_URL, schema, onError: () => {} });
      await checkUpgraded(store);
      const { rows } = await c.query<{ v: number }>(`SELECT max(version)::int AS v FROM ${s}.migrations`);
      assert.equal(rows[0]?.v, 9);
    } finally {
      await store?.close();
      await c.end();
      await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
    }
  });
});

/**
 * Worker threads that each open the file and, released together, create a deployment for the
 * same agent and alias: a real race between connections (one thread would only take turns).
 */
const RACER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { createSqliteStore } = await import(workerData.module);
  const store = createSqliteStore({ path: workerData.path });
  const gate = new Int32Array(workerData.gate);
  parentPort.postMessage({ ready: true });
  Atomics.wait(gate, 0, 0);
  const created = await store.deployments.createDeployment({
    deploymentId: workerData.id, agent: 'commerce', alias: 'live', from: 'v1', to: 'v2',
    strategy: 'all-at-once', status: 'in_progress', steps: [], state: {}, createdAt: 1, updatedAt: 1,
    createdBy: workerData.id, rev: 1, owner: null, leaseUntil: null,
  });
  await store.close();
  parentPort.postMessage({ created });
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

describe('issue 18: creating deployments from several SQLite connections at once', () => {
  it('issue 18 race: of 6 threads creating an active deployment for one agent and alias, one wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-deploy-race-'));
    const path = join(dir, 'switchboard.db');
    const store = createSqliteStore({ path });
    try {
      const gate = new SharedArrayBuffer(4);
      const module = new URL('../../src/store/sqlite/store.ts', import.meta.url).href;
      const results = Array.from({ length: 6 }, (_, i) => {
        const worker = new Worker(RACER, { eval: true, workerData: { module, path, gate, id: `race-${i}` } });
        let onReady!: () => void;
        const ready = new Promise<void>((resolve) => (onReady = resolve));
        const done = new Promise<{ created?: boolean; error?: string }>((resolve, reject) => {
          worker.on('message', (m: { ready?: boolean; created?: boolean; error?: string }) =>
            m.ready ? onReady() : resolve(m),
          );
          worker.on('error', reject);
        });
        return { ready, done };
      });
      await Promise.all(results.map((r) => r.ready));
      Atomics.store(new Int32Array(gate), 0, 1);
      Atomics.notify(new Int32Array(gate), 0);
      const outcomes = await Promise.all(results.map((r) => r.done));
      assert.deepEqual(
        outcomes.filter((o) => o.error),
        [],
      );
      assert.equal(outcomes.filter((o) => o.created).length, 1, JSON.stringify(outcomes));
      const stored = await store.deployments.deployments({ agent: 'commerce' });
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.deploymentId, `race-${outcomes.findIndex((o) => o.created)}`);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Upgrading a store written before issue 17 (migrations 1–3 only, rows as the old code wrote
 * them): PostgreSQL text columns are re-escaped so old values read back unchanged (#1), and every
 * existing run gets an unsealed head, so old journals still verify unkeyed and are reported as
 * UNKEYED once an audit key is set (#15).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import pg from 'pg';
import { eventHash, GENESIS_HASH } from '../../src/core/audit.ts';
import { verifyRun } from '../../src/runtime/approvals.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { PG_MIGRATIONS } from '../../src/store/postgres/schema.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import type { Store } from '../../src/store/ports.ts';
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';

const OLD_TEXT = 'C:\\orders\\0042 \\\\ back\\0slash';
const KEY = 'upgrade-audit-key-0123456789';
const quote = (v: string): string => `'${v.replaceAll("'", "''")}'`;
const postgres = await requirePostgres();

/** The rows an old version wrote: a two-event unkeyed journal, a run row, an approval, a fact. */
function oldRows(t: (n: string) => string, q: (v: string) => string, yes: string): string[] {
  const data = ['{"actorId":"a"}', '{"message":"hi"}'];
  let prev = GENESIS_HASH;
  const events = data.map((d, i) => {
    const hash = eventHash(prev, 'r1', i + 1, 1000, 1, i === 0 ? 'run.submitted' : 'progress', d);
    const row = `('r1', ${i + 1}, 1000, 1, '${i === 0 ? 'run.submitted' : 'progress'}', '${d}', '${prev}', '${hash}')`;
    prev = hash;
    return row;
  });
  return [
    `INSERT INTO ${t('events')} (run_id, seq, at, v, type, data, prev_hash, hash) VALUES ${events.join(', ')}`,
    `INSERT INTO ${t('runs')} (run_id, actor_id, session_id, agent, status, parent_run_id, created_at, updated_at, last_seq, summary)
     VALUES ('r1', 'a', 's', NULL, 'completed', NULL, 1, 1, 2, ${q(OLD_TEXT)})`,
    `INSERT INTO ${t('approvals')} (approval_id, run_id, call_id, tool, agent, args, args_digest, reasons, requested_by,
       requested_at, expires_at, status, approver, comment, decided_at)
     VALUES ('ap1', 'r1', 'c1', 'refund', 'commerce', '{}', 'd', '[]', 'a', 1, 2, 'approved', 'bob', ${q(OLD_TEXT)}, 2)`,
    `INSERT INTO ${t('facts')} (id, actor_id, namespace, key, value, source, trusted, run_id, call_id, created_at, expires_at)
     VALUES ('f1', 'a', 'notes', 'path', ${q(OLD_TEXT)}, 'api', ${yes}, NULL, NULL, 1, NULL)`,
  ];
}

async function checkUpgraded(store: Store, keyed: Store): Promise<void> {
  assert.equal((await store.runs.get('r1'))?.summary, OLD_TEXT);
  assert.equal((await store.approvals.get('ap1'))?.comment, OLD_TEXT);
  assert.equal((await store.facts.list('a', 0))[0]?.value, OLD_TEXT);
  const head = await store.journal.head('r1');
  assert.deepEqual([head?.seq, head?.seal], [2, '']);
  assert.deepEqual(await verifyRun(store, 'r1'), { ok: true, events: 2 });
  const strict = await verifyRun(keyed, 'r1');
  assert.equal(strict.ok === false && strict.kind, 'unkeyed');
  assert.deepEqual(await verifyRun(keyed, 'r1', { allowUnkeyed: true }), { ok: true, events: 2 });
}

describe('upgrading a store from before issue 17', () => {
  it('hardening #1 #15: SQLite keeps old rows and gives old runs unsealed heads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-upgrade-'));
    const path = join(dir, 'switchboard.db');
    try {
      const db = new DatabaseSync(path);
      db.exec(
        'CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      for (const m of MIGRATIONS.slice(0, 3)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      for (const sql of oldRows((n) => n, quote, '1')) db.exec(sql);
      db.close();
      const store = createSqliteStore({ path });
      const keyed = createSqliteStore({ path, audit: { key: KEY } });
      try {
        await checkUpgraded(store, keyed);
      } finally {
        await keyed.close();
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'hardening #1 #15: PostgreSQL re-escapes old text columns and gives old runs unsealed heads',
    { skip: !postgres },
    async () => {
      const schema = testSchema();
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
        await client.query(
          `CREATE TABLE ${schema}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
        );
        for (const m of PG_MIGRATIONS.slice(0, 3)) {
          await client.query(m.sql(schema));
          await client.query(`INSERT INTO ${schema}.migrations VALUES ($1, $2, 0)`, [m.version, m.name]);
        }
        for (const sql of oldRows((n) => `${schema}.${n}`, quote, 'true')) await client.query(sql);
        const store = createPostgresStore({ url: POSTGRES_URL, schema, onError: () => {} });
        const keyed = createPostgresStore({
          url: POSTGRES_URL,
          schema,
          audit: { key: KEY },
          onError: () => {},
        });
        try {
          await checkUpgraded(store, keyed);
        } finally {
          await keyed.close();
          await store.close();
        }
      } finally {
        await client.end();
        await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
      }
    },
  );
});

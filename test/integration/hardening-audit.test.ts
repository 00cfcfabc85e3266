/**
 * Tamper evidence (issue 17 #15), on SQLite and PostgreSQL: journals written with an audit key are
 * tampered with through the database itself (cut from the end, deleted, altered, re-hashed by
 * someone without the key, headless), and the real `switchboard verify --all` must name each one
 * and exit non-zero; key rotation with `previousKeys` keeps old runs verifiable.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditChain, eventHash, GENESIS_HASH } from '../../src/core/audit.ts';
import { event } from '../../src/core/events.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import type { Store } from '../../src/store/ports.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';
import { submittedEvent } from '../events.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../fixtures/projects/library/switchboard.config.ts', import.meta.url));
const KEY_1 = 'first-audit-key-0123456789abcdef';
const KEY_2 = 'second-audit-key-0123456789abcdef';

function sb(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') clean[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--config', CONFIG], { env: { ...clean, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const submitted = submittedEvent();
const RUNS = ['r-ok', 'r-trunc', 'r-del', 'r-mod', 'r-rehashed', 'r-nohead'];

/** Five events per run, journaled with KEY_1. */
async function seed(store: Store): Promise<void> {
  for (const runId of RUNS)
    await store.journal.append(runId, 1, [
      submitted,
      ...[1, 2, 3, 4].map((i) => event('progress', { message: `${i}` })),
    ]);
}

/** Someone with write access to the database but not the key re-hashes a modified run (plain SHA-256). */
async function rehashWithoutKey(
  store: Store,
  exec: (sql: string) => Promise<void>,
  t: (n: string) => string,
) {
  let prev = GENESIS_HASH;
  for (const e of await store.journal.readStored('r-rehashed')) {
    const data = e.seq === 3 ? '{"message":"refund approved"}' : e.dataText;
    const hash = eventHash(prev, e.runId, e.seq, e.at, e.v, e.type, data);
    await exec(
      `UPDATE ${t('events')} SET data = '${data}', prev_hash = '${prev}', hash = '${hash}' WHERE run_id = 'r-rehashed' AND seq = ${e.seq}`,
    );
    prev = hash;
  }
  const seal = auditChain().seal('r-rehashed', 5, prev);
  await exec(`UPDATE ${t('run_heads')} SET hash = '${prev}', seal = '${seal}' WHERE run_id = 'r-rehashed'`);
}

async function tamper(store: Store, exec: (sql: string) => Promise<void>, t: (n: string) => string) {
  await exec(`DELETE FROM ${t('events')} WHERE run_id = 'r-trunc' AND seq > 3`);
  await exec(`DELETE FROM ${t('events')} WHERE run_id = 'r-del'`);
  await exec(`UPDATE ${t('events')} SET data = '{"message":"forged"}' WHERE run_id = 'r-mod' AND seq = 2`);
  await exec(`DELETE FROM ${t('run_heads')} WHERE run_id = 'r-nohead'`);
  await rehashWithoutKey(store, exec, t);
}

interface Target {
  name: string;
  env: Record<string, string>;
  /** Open the store with a key, seed it, tamper with it; returns cleanup. */
  prepare(): Promise<() => Promise<void>>;
}

const targets: Target[] = [];
{
  const dir = mkdtempSync(join(tmpdir(), 'sb-audit-'));
  const path = join(dir, 'data', 'switchboard.db');
  targets.push({
    name: 'sqlite',
    env: { SWITCHBOARD_DATA_DIR: join(dir, 'data') },
    async prepare() {
      const store = createSqliteStore({ path, audit: { key: KEY_1 } });
      await seed(store);
      const db = new DatabaseSync(path);
      await tamper(
        store,
        async (sql) => void db.exec(sql),
        (n) => n,
      );
      db.close();
      await store.close();
      return async () => rmSync(dir, { recursive: true, force: true });
    },
  });
}
if (await requirePostgres()) {
  const schema = testSchema();
  targets.push({
    name: 'postgres',
    env: { SWITCHBOARD_DATABASE_URL: POSTGRES_URL, SWITCHBOARD_DATABASE_SCHEMA: schema },
    async prepare() {
      const store = createPostgresStore({
        url: POSTGRES_URL,
        schema,
        audit: { key: KEY_1 },
        onError: () => {},
      });
      await seed(store);
      await tamper(
        store,
        async (sql) => void (await store.pool.query(sql)),
        (n) => `${schema}.${n}`,
      );
      await store.close();
      return async () => dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
    },
  });
}

for (const target of targets) {
  describe(`tamper evidence on ${target.name}`, { timeout: 120_000 }, () => {
    it('hardening #15: verify --all reports truncated, deleted, altered, re-hashed and headless runs, exit 1', async () => {
      const cleanup = await target.prepare();
      try {
        const keyed = { ...target.env, SWITCHBOARD_AUDIT_KEY: KEY_1 };
        const all = await sb(['verify', '--all'], keyed);
        assert.equal(all.code, 1, all.out);
        const line = (runId: string) => all.out.split('\n').find((l) => l.startsWith(`${runId}:`)) ?? '';
        assert.equal(line('r-ok'), '');
        assert.match(line('r-trunc'), /^r-trunc: TRUNCATED at event #4: events 4\.\.5 were cut from the end/);
        assert.match(line('r-del'), /^r-del: DELETED .*the journal has none/);
        assert.match(line('r-mod'), /^r-mod: ALTERED at event #2 \(progress\)/);
        assert.match(line('r-rehashed'), /^r-rehashed: UNKEYED at event #1 .*unkeyed/);
        assert.match(line('r-nohead'), /^r-nohead: NO HEAD/);
        assert.match(all.out, /verified 6 runs: 1 ok, 5 failed/);

        const one = await sb(['verify', 'r-ok'], keyed);
        assert.equal(one.code, 0, one.out);
        assert.match(one.out, /r-ok: ok \(5 events\)/);

        // Rotation: the new key signs from now on; the old one, listed in previousKeys, still verifies.
        const rotated = await sb(['verify', 'r-ok'], {
          ...target.env,
          SWITCHBOARD_AUDIT_KEY: KEY_2,
          SWITCHBOARD_AUDIT_PREVIOUS_KEYS: KEY_1,
        });
        assert.equal(rotated.code, 0, rotated.out);
        const forgotten = await sb(['verify', 'r-ok'], { ...target.env, SWITCHBOARD_AUDIT_KEY: KEY_2 });
        assert.equal(forgotten.code, 1, forgotten.out);
        assert.match(forgotten.out, /r-ok: UNKNOWN KEY at event #1 .*not configured/);
      } finally {
        await cleanup();
      }
    });
  });
}

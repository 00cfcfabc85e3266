/**
 * migrate(): a new database gets every migration in one transaction (all or none), a database at
 * an earlier migration gets the rest, and an up-to-date one is left alone (no write).
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { migrate, MIGRATIONS } from '../../src/store/sqlite/schema.ts';

const versions = (db: DatabaseSync) =>
  db
    .prepare('SELECT version FROM migrations ORDER BY version')
    .all()
    .map((r) => Number(r.version));
const all = MIGRATIONS.map((m) => m.version);

test('migrate: a new database gets every migration, in one commit', () => {
  const db = new DatabaseSync(':memory:');
  let commits = 0;
  const exec = db.exec.bind(db);
  db.exec = (sql: string) => {
    if (/^\s*COMMIT/i.test(sql)) commits++;
    exec(sql);
  };
  assert.deepEqual(migrate(db, 1), all);
  assert.deepEqual(versions(db), all);
  assert.equal(commits, 1);
  assert.deepEqual(migrate(db, 2), []);
  assert.equal(commits, 1, 'an up-to-date database is not written');
});

test('migrate: a database at an earlier migration gets the rest', () => {
  const db = new DatabaseSync(':memory:');
  db.exec(
    'CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  for (const m of MIGRATIONS.slice(0, 3)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  assert.deepEqual(migrate(db, 1), all.slice(3));
  assert.deepEqual(versions(db), all);
});

test('migrate: a failing migration applies none of the pending ones', () => {
  const db = new DatabaseSync(':memory:');
  // A table the first migration creates, already there: migration 1 fails, and nothing is recorded.
  db.exec('CREATE TABLE runs (x INTEGER)');
  assert.throws(() => migrate(db, 1));
  assert.equal(
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('migrations', 'events')").get()!.n,
    0,
  );
});

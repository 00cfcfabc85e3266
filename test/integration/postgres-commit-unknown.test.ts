/**
 * A PostgreSQL commit whose COMMIT is cut off may or may not have applied: the store says so with a
 * typed CommitUnknownError (never retried blindly) naming the unit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { CommitUnknownError } from '../../src/core/errors.ts';
import { event } from '../../src/core/events.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/store.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';

const postgres = await requirePostgres();

/** Make the next statement equal to `sql` fail as a dropped connection would. */
function cutOffAt(store: PostgresStore, sql: string): void {
  const connect = store.pool.connect.bind(store.pool) as () => Promise<pg.PoolClient>;
  let armed = true;
  (store.pool as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
    const client = await connect();
    const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
    (client as { query: unknown }).query = async (text: string, values?: unknown[]) => {
      if (armed && text === sql) {
        armed = false;
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
      }
      return query(text, values);
    };
    return client;
  };
}

test(
  'a commit cut off during COMMIT fails with CommitUnknownError naming the unit',
  { skip: !postgres },
  async () => {
    const schema = testSchema();
    const store = createPostgresStore({
      url: POSTGRES_URL,
      schema,
      wakeups: false,
      notify: false,
      onError: () => {},
    });
    try {
      await store.ready();
      cutOffAt(store, 'COMMIT');
      const error = await store
        .commit({
          appends: [{ runId: 'r1', expectedSeq: 1, events: [event('progress', { message: 'hi' })] }],
        })
        .then(
          () => assert.fail('expected CommitUnknownError'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof CommitUnknownError, String(error));
      assert.equal(error.code, 'commit_unknown');
      assert.equal(error.unit, 'r1@1+1');
      assert.match(error.message, /^commit outcome unknown: Connection terminated/);
      assert.equal((error.cause as { code?: string }).code, 'ECONNRESET');
    } finally {
      await store.close();
      await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
    }
  },
);

/**
 * The PostgreSQL commit path reads a fenced unit's tails with the fence lock, in one statement, and
 * sends its writes as one statement at the end: a tail read under a lock another writer held is
 * older than that writer's commit, and the journal's key must still refuse the stale seq.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { verifyChain } from '../../src/core/audit.ts';
import { ConflictError } from '../../src/core/errors.ts';
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';
import { progressEvent, submittedEvent } from '../events.ts';

const submitted = submittedEvent;
const progress = progressEvent;

/** The stored chain links end to end and the head is its last event. */
async function chainIntact(store: ReturnType<typeof createPostgresStore>): Promise<void> {
  const stored = await store.journal.readStored('r');
  assert.deepEqual(verifyChain(stored), { ok: true, events: stored.length });
  const head = await store.journal.head('r');
  assert.deepEqual([head?.seq, head?.hash], [stored.at(-1)?.seq, stored.at(-1)?.hash]);
}

if (await requirePostgres())
  describe('postgres commit: tails read with the fence lock', () => {
    const withSetup = async (
      fn: (s: {
        store: ReturnType<typeof createPostgresStore>;
        other: pg.Client;
        fence: number;
        schema: string;
      }) => Promise<void>,
    ) => {
      const schema = testSchema();
      const store = createPostgresStore({ url: POSTGRES_URL, schema, onError: () => {} });
      const other = new pg.Client({ connectionString: POSTGRES_URL });
      try {
        await store.journal.append('r', 1, [submitted()]);
        await store.queue.enqueue({ runId: 'r', queue: 'q', readyAt: 0 });
        const [claimed] = await store.queue.claim('q', 'w', 1, 60_000);
        assert.ok(claimed);
        await other.connect();
        await fn({ store, other, fence: claimed.fence, schema });
      } finally {
        await other.end().catch(() => {});
        await store.close();
        await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
      }
    };

    /** Lock r's task row elsewhere, start the fenced commit (it waits), append seq 2, then unlock. */
    const race = async (
      s: Parameters<Parameters<typeof withSetup>[0]>[0],
      expectedSeq: number | 'tail',
    ): Promise<PromiseSettledResult<unknown>> => {
      await s.other.query('BEGIN');
      await s.other.query(`SELECT 1 FROM "${s.schema}".tasks WHERE run_id = 'r' FOR UPDATE`);
      const fenced = s.store.commit({
        fence: { runId: 'r', fence: s.fence },
        appends: [{ runId: 'r', expectedSeq, events: [progress('fenced')] }],
      });
      const settled = Promise.allSettled([fenced]).then(([r]) => r);
      // Let the fenced commit take its snapshot and block on the row lock.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await s.store.journal.append('r', 2, [progress('other')]);
      await s.other.query('COMMIT');
      return settled;
    };

    it("a 'tail' append goes after the writer that held the lock", () =>
      withSetup(async (s) => {
        const result = await race(s, 'tail');
        assert.equal(result.status, 'fulfilled');
        const events = await s.store.journal.read('r');
        assert.deepEqual(
          events.map((e) => [e.seq, (e.data as { message?: string }).message ?? null]),
          [
            [1, null],
            [2, 'other'],
            [3, 'fenced'],
          ],
        );
        await chainIntact(s.store);
      }));

    it('an append at the seq that writer took is a ConflictError, and nothing of it is stored', () =>
      withSetup(async (s) => {
        const result = await race(s, 2);
        assert.equal(result.status, 'rejected');
        assert.ok(result.reason instanceof ConflictError);
        const events = await s.store.journal.read('r');
        assert.deepEqual(
          events.map((e) => e.seq),
          [1, 2],
        );
        await chainIntact(s.store);
      }));
  });

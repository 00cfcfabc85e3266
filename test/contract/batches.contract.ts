/**
 * Contract of the batch port (store/batch-port.ts): the same tests on every adapter. A batch and
 * its records are created once, atomically; record and batch moves are compare-and-set; text a
 * caller wrote (owner, custom ids, requests) reads back by the store's text rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchRecordRow, BatchRow } from '../../src/store/batch-port.ts';
import type { Store } from '../../src/store/ports.ts';

type WithStore = (fn: (store: Store) => Promise<void>) => Promise<void>;

const batch = (batchId: string, over: Partial<BatchRow> = {}): BatchRow => ({
  batchId,
  owner: 'alice',
  agent: null,
  origin: 'cli',
  inputDigest: 'd'.repeat(64),
  createdAt: 1000,
  updatedAt: 1000,
  status: 'running',
  total: 3,
  ...over,
});

const records = (batchId: string, n = 3): BatchRecordRow[] =>
  Array.from({ length: n }, (_, index) => ({
    batchId,
    index,
    customId: `r${index}`,
    request: { input: `request ${index}`, metadata: { k: String(index) } },
    error: null,
    runId: null,
    status: 'pending' as const,
  }));

export function batchesContract(adapter: string, withStore: WithStore): void {
  describe(`${adapter} store: batches (issue 19 batch)`, () => {
    it('issue 19 batch: a batch is created once with its records, in input order', () =>
      withStore(async (store) => {
        const first = await store.batches.create(batch('b1'), records('b1'));
        assert.equal(first.created, true);
        const again = await store.batches.create(
          batch('b1', { owner: 'mallory', total: 9 }),
          records('b1', 9),
        );
        assert.equal(again.created, false);
        assert.equal(again.batch.owner, 'alice');
        assert.equal(again.batch.total, 3);
        const rows = await store.batches.records('b1');
        assert.deepEqual(
          rows.map((r) => [r.index, r.customId, r.request?.input, r.status]),
          [
            [0, 'r0', 'request 0', 'pending'],
            [1, 'r1', 'request 1', 'pending'],
            [2, 'r2', 'request 2', 'pending'],
          ],
        );
        assert.deepEqual(rows[1]?.request?.metadata, { k: '1' });
        assert.deepEqual(
          (await store.batches.records('b1', { from: 1, limit: 1 })).map((r) => r.index),
          [1],
        );
        assert.deepEqual(await store.batches.counts('b1'), { pending: 3 });
        assert.equal(await store.batches.get('nope'), null);
        assert.equal(await store.batches.get('no\u0000pe'), null);
      }));

    it('issue 19 batch: record moves are compare-and-set; a run id and an error are kept', () =>
      withStore(async (store) => {
        await store.batches.create(batch('b2'), records('b2'));
        assert.equal(
          await store.batches.setRecord('b2', 0, { status: 'submitted', runId: 'run_1' }, ['pending']),
          true,
        );
        // A second driver (or a cancel racing it) finds the record moved already.
        assert.equal(
          await store.batches.setRecord('b2', 0, { status: 'submitted', runId: 'run_2' }, ['pending']),
          false,
        );
        assert.equal(await store.batches.setRecord('b2', 0, { status: 'completed' }, ['submitted']), true);
        const error = { name: 'UserError', code: 'bad_request', message: 'unknown agent' };
        assert.equal(await store.batches.setRecord('b2', 1, { status: 'invalid', error }, ['pending']), true);
        assert.equal(await store.batches.setRecord('b2', 7, { status: 'cancelled' }, ['pending']), false);
        const [r0, r1] = await store.batches.records('b2');
        assert.equal(r0?.runId, 'run_1');
        assert.equal(r0?.status, 'completed');
        assert.deepEqual(r1?.error, error);
        assert.deepEqual(await store.batches.counts('b2'), { completed: 1, invalid: 1, pending: 1 });
      }));

    it('issue 19 batch: batch status moves only from the given statuses', () =>
      withStore(async (store) => {
        await store.batches.create(batch('b3'), records('b3'));
        assert.equal(await store.batches.setStatus('b3', 'cancelled', 2000, ['running']), true);
        assert.equal(await store.batches.setStatus('b3', 'completed', 3000, ['running']), false);
        const b = await store.batches.get('b3');
        assert.equal(b?.status, 'cancelled');
        assert.equal(b?.updatedAt, 2000);
      }));

    it('issue 19 batch: listing is newest first and owner-scoped', () =>
      withStore(async (store) => {
        await store.batches.create(batch('bA', { createdAt: 1 }), records('bA', 1));
        await store.batches.create(batch('bB', { createdAt: 2, owner: 'bob' }), records('bB', 1));
        await store.batches.create(batch('bC', { createdAt: 3 }), records('bC', 1));
        assert.deepEqual(
          (await store.batches.list({})).map((b) => b.batchId),
          ['bC', 'bB', 'bA'],
        );
        assert.deepEqual(
          (await store.batches.list({ owner: 'alice' })).map((b) => b.batchId),
          ['bC', 'bA'],
        );
        assert.deepEqual(
          (await store.batches.list({ limit: 1 })).map((b) => b.batchId),
          ['bC'],
        );
      }));

    it('issue 19 batch: owner, ids and requests with NUL, backslashes, emoji and 1 MB read back', () =>
      withStore(async (store) => {
        const owner = 'al\u0000ice\\0 🚀';
        const big = 'x'.repeat(1_000_000);
        const rows: BatchRecordRow[] = [
          {
            ...records('b4', 1)[0]!,
            customId: 'id\\with\\backslash',
            request: { input: 'thank\u0000you \ud800' },
          },
          { ...records('b4', 2)[1]!, customId: 'עברית 😀', request: { input: big } },
        ];
        await store.batches.create(batch('b4', { owner, total: 2 }), rows);
        assert.equal((await store.batches.get('b4'))?.owner, owner);
        assert.deepEqual(
          (await store.batches.list({ owner })).map((b) => b.batchId),
          ['b4'],
        );
        const back = await store.batches.records('b4');
        assert.equal(back[0]?.customId, 'id\\with\\backslash');
        assert.equal(back[0]?.request?.input, 'thank\u0000you \ud800');
        assert.equal(back[1]?.customId, 'עברית 😀');
        assert.equal(back[1]?.request?.input.length, 1_000_000);
      }));

    it('issue 19 batch: two creators of one batch at once make it once', () =>
      withStore(async (store) => {
        const made = await Promise.all([
          store.batches.create(batch('b5'), records('b5')),
          store.batches.create(batch('b5'), records('b5')),
        ]);
        assert.deepEqual(made.map((m) => m.created).sort(), [false, true]);
        assert.equal((await store.batches.records('b5')).length, 3);
      }));
  });
}

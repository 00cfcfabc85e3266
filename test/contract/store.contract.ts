/**
 * The store contract: every adapter of the Journal and Queue ports runs these same tests
 * (test/unit/store-memory, test/integration/store-sqlite and postgres-store run them).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, JournalClosedError } from '../../src/core/errors.ts';
import { event } from '../../src/core/events.ts';
import type { Store } from '../../src/store/ports.ts';
import { manualClock, type ManualClock } from '../../src/testing/clock.ts';
import { adversarialContract } from './adversarial.contract.ts';
import { hardeningContract } from './hardening.contract.ts';
import { progressEvent, submittedEvent } from '../events.ts';

export type StoreFactory = (clock: ManualClock) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const submitted = submittedEvent;
const progress = progressEvent;

export function storeContract(adapter: string, factory: StoreFactory): void {
  const withStore = async (fn: (store: Store, clock: ManualClock) => Promise<void>): Promise<void> => {
    const clock = manualClock();
    const { store, cleanup } = await factory(clock);
    try {
      await fn(store, clock);
    } finally {
      await cleanup();
    }
  };

  adversarialContract(adapter, withStore);
  hardeningContract(adapter, withStore);

  describe(`${adapter} store: ConflictError reasons`, () => {
    /** The error a rejected promise carries, asserted to be a ConflictError. */
    const conflictOf = async (p: Promise<unknown>): Promise<ConflictError> => {
      const error = await p.then(
        () => assert.fail('expected a ConflictError'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConflictError, String(error));
      return error;
    };

    it("seq: an append at a taken or skipped seq says 'seq' and the seq it expected", () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted()]);
        const taken = await conflictOf(store.journal.append('r1', 1, [progress('late')]));
        assert.deepEqual([taken.reason, taken.subject, taken.expectedSeq], ['seq', 'r1', 1]);
        const gap = await conflictOf(
          store.commit({ appends: [{ runId: 'r1', expectedSeq: 7, events: [progress('gap')] }] }),
        );
        assert.deepEqual([gap.reason, gap.expectedSeq], ['seq', 7]);
      }));

    it("fenced: a commit under a lease another worker took says 'fenced'", () =>
      withStore(async (store, clock) => {
        await store.journal.append('r', 1, [submitted()]);
        await store.queue.enqueue({ runId: 'r', queue: 'q', readyAt: clock.now() });
        const [stale] = await store.queue.claim('q', 'w1', 1, 100);
        clock.advance(101);
        await store.queue.claim('q', 'w2', 1, 100);
        assert.ok(stale);
        const e = await conflictOf(
          store.commit({
            fence: { runId: 'r', fence: stale.fence },
            appends: [{ runId: 'r', expectedSeq: 2, events: [progress('stale')] }],
          }),
        );
        assert.deepEqual([e.reason, e.subject, e.expectedSeq], ['fenced', 'r', undefined]);
      }));

    it("moved: a seq assertion on a run that moved on says 'moved'", () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted(), progress('a')]);
        const e = await conflictOf(store.commit({ assertSeq: [{ runId: 'r1', seq: 1 }] }));
        assert.deepEqual([e.reason, e.subject], ['moved', 'r1']);
      }));

    it("duplicate: a live dedup key says 'duplicate'", () =>
      withStore(async (store, clock) => {
        await store.commit({ dedup: { key: 'k', runId: 'r1', expiresAt: clock.now() + 1000 } });
        const e = await conflictOf(
          store.commit({ dedup: { key: 'k', runId: 'r2', expiresAt: clock.now() + 1000 } }),
        );
        assert.deepEqual([e.reason, e.subject], ['duplicate', 'r2']);
      }));

    it("closed: an append to an ended run says 'closed' (JournalClosedError)", () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [
          submitted(),
          event('run.completed', {
            output: 'done',
            totals: {
              steps: 0,
              modelCalls: 0,
              toolCalls: 0,
              inputTokens: 0,
              outputTokens: 0,
              costUsd: 0,
              durationMs: 0,
            },
          }),
        ]);
        const e = await conflictOf(store.journal.append('r1', 3, [progress('after')]));
        assert.ok(e instanceof JournalClosedError);
        assert.deepEqual([e.reason, e.subject], ['closed', 'r1']);
      }));
  });

  describe(`${adapter} store: Journal contract`, () => {
    it('appends with dense seqs from 1 and reads them back in order', () =>
      withStore(async (store) => {
        const first = await store.journal.append('r1', 1, [submitted(), progress('one')]);
        assert.deepEqual(
          first.map((e) => [e.seq, e.type]),
          [
            [1, 'run.submitted'],
            [2, 'progress'],
          ],
        );
        await store.journal.append('r1', 3, [progress('two')]);
        const all = await store.journal.read('r1');
        assert.deepEqual(
          all.map((e) => e.seq),
          [1, 2, 3],
        );
        assert.deepEqual(all[2]?.data, { message: 'two' });
        assert.equal(all[0]?.v, 1);
      }));

    it('reads only events after a given seq, with a limit', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted(), progress('a'), progress('b'), progress('c')]);
        const after = await store.journal.read('r1', 2);
        assert.deepEqual(
          after.map((e) => e.seq),
          [3, 4],
        );
        assert.equal((await store.journal.read('r1', 1, 1)).length, 1);
        assert.deepEqual(await store.journal.read('missing'), []);
      }));

    it('refuses an append at a taken seq with ConflictError and keeps the journal unchanged', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted()]);
        await store.journal.append('r1', 2, [progress('winner')]);
        await assert.rejects(store.journal.append('r1', 2, [progress('loser')]), ConflictError);
        await assert.rejects(store.journal.append('r1', 5, [progress('gap')]), ConflictError);
        const all = await store.journal.read('r1');
        assert.equal(all.length, 2);
        assert.deepEqual(all[1]?.data, { message: 'winner' });
      }));

    it('of two concurrent appends at the same seq, exactly one wins', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted()]);
        const results = await Promise.allSettled([
          store.journal.append('r1', 2, [progress('x')]),
          store.journal.append('r1', 2, [progress('y')]),
        ]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        const rejected = results.find((r) => r.status === 'rejected');
        assert.ok(rejected && rejected.reason instanceof ConflictError);
        assert.equal((await store.journal.read('r1')).length, 2);
      }));

    it('applies a commit entirely or not at all', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted()]);
        await assert.rejects(
          store.commit({
            appends: [
              { runId: 'r2', expectedSeq: 1, events: [submitted()] },
              { runId: 'r1', expectedSeq: 9, events: [progress('bad')] },
            ],
            upsertTasks: [{ runId: 'r2', queue: 'q', readyAt: 0 }],
          }),
          ConflictError,
        );
        assert.deepEqual(await store.journal.read('r2'), []);
        assert.equal(await store.queue.depth('q'), 0);
      }));

    it("appends at 'tail' after whatever is there", () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted(), progress('a')]);
        const [e] = (
          await store.commit({ appends: [{ runId: 'r1', expectedSeq: 'tail', events: [progress('b')] }] })
        ).events;
        assert.equal(e?.seq, 3);
      }));

    it('checks assertSeq without appending', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted()]);
        await store.commit({ assertSeq: [{ runId: 'r1', seq: 1 }] });
        await assert.rejects(store.commit({ assertSeq: [{ runId: 'r1', seq: 0 }] }), ConflictError);
      }));

    it('lists run ids and notifies listeners after commit', () =>
      withStore(async (store) => {
        const seen: string[] = [];
        const stop = store.listen({
          appended: (events) => seen.push(...events.map((e) => `${e.runId}:${e.seq}`)),
        });
        await store.journal.append('r1', 1, [submitted()]);
        await store.journal.append('r2', 1, [submitted()]);
        stop();
        await store.journal.append('r3', 1, [submitted()]);
        assert.deepEqual(seen, ['r1:1', 'r2:1']);
        assert.deepEqual((await store.journal.runIds()).sort(), ['r1', 'r2', 'r3']);
      }));
  });

  describe(`${adapter} store: Facts and audit contract`, () => {
    const fact = (
      actorId: string,
      key: string,
      value: string,
      createdAt: number,
      expiresAt: number | null = null,
    ) => ({
      id: `${actorId}-${key}`,
      actorId,
      namespace: 'notes',
      key,
      value,
      source: 'api' as const,
      trusted: true,
      runId: null,
      callId: null,
      createdAt,
      expiresAt,
    });

    it('keeps facts per actor, replaces by key, expires and sweeps them', () =>
      withStore(async (store, clock) => {
        const now = clock.now();
        await store.facts.put(fact('a', 'lang', 'fr', now));
        await store.facts.put(fact('a', 'lang', 'de', now + 1));
        await store.facts.put(fact('a', 'tmp', 'x', now, now + 10));
        await store.facts.put(fact('b', 'lang', 'en', now));
        assert.deepEqual((await store.facts.list('a', now)).map((f) => `${f.key}=${f.value}`).sort(), [
          'lang=de',
          'tmp=x',
        ]);
        assert.deepEqual(
          (await store.facts.list('a', now + 10)).map((f) => f.key),
          ['lang'],
        );
        assert.equal(await store.facts.sweep(now + 10), 1);
        assert.equal(await store.facts.deleteActor('a'), 1);
        assert.deepEqual(await store.facts.list('a', now), []);
        assert.equal((await store.facts.list('b', now))[0]?.value, 'en');
      }));

    it('hash-chains appends and re-bases the chain on rewrite', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted(), progress('secret')]);
        const stored = await store.journal.readStored('r1');
        assert.equal(stored[1]?.prevHash, stored[0]?.hash);
        const events = await store.journal.read('r1');
        const redacted = events.map((e) =>
          e.type === 'progress' ? { ...e, data: { message: '[redacted]' } } : e,
        );
        await store.journal.rewrite('r1', redacted);
        const after = await store.journal.readStored('r1');
        assert.equal(after[0]?.hash, stored[0]?.hash);
        assert.notEqual(after[1]?.hash, stored[1]?.hash);
        assert.equal(after[1]?.prevHash, after[0]?.hash);
        assert.deepEqual((await store.journal.read('r1'))[1]?.data, { message: '[redacted]' });
      }));
  });

  describe(`${adapter} store: Queue contract`, () => {
    it('claims only ready tasks, oldest first, up to the limit', () =>
      withStore(async (store, clock) => {
        const now = clock.now();
        await store.queue.enqueue({ runId: 'late', queue: 'q', readyAt: now + 1000 });
        await store.queue.enqueue({ runId: 'b', queue: 'q', readyAt: now - 10 });
        await store.queue.enqueue({ runId: 'a', queue: 'q', readyAt: now - 20 });
        await store.queue.enqueue({ runId: 'other', queue: 'other', readyAt: now });
        const claimed = await store.queue.claim('q', 'w1', 5, 10_000);
        assert.deepEqual(
          claimed.map((t) => t.runId),
          ['a', 'b'],
        );
        assert.equal(await store.queue.nextReadyAt('q'), now + 1000);
        clock.advance(1000);
        assert.deepEqual(
          (await store.queue.claim('q', 'w1', 5, 10_000)).map((t) => t.runId),
          ['late'],
        );
      }));

    it('keeps one task per run: a second enqueue moves it', () =>
      withStore(async (store, clock) => {
        await store.queue.enqueue({ runId: 'r', queue: 'q1', readyAt: clock.now() + 5000 });
        await store.queue.enqueue({ runId: 'r', queue: 'q2', readyAt: clock.now() });
        assert.equal(await store.queue.depth('q1'), 0);
        assert.equal((await store.queue.claim('q2', 'w', 5, 1000)).length, 1);
      }));

    it('does not hand a leased task to a second worker until the lease expires', () =>
      withStore(async (store, clock) => {
        await store.queue.enqueue({ runId: 'r', queue: 'q', readyAt: clock.now() });
        const [first] = await store.queue.claim('q', 'w1', 1, 1000);
        assert.ok(first);
        assert.deepEqual(await store.queue.claim('q', 'w2', 1, 1000), []);
        clock.advance(1001);
        const [second] = await store.queue.claim('q', 'w2', 1, 1000);
        assert.ok(second);
        assert.notEqual(second.fence, first.fence);
        assert.equal(second.attempts, 2);
      }));

    it('fences a worker whose lease was taken: its commit is refused', () =>
      withStore(async (store, clock) => {
        await store.journal.append('r', 1, [submitted()]);
        await store.queue.enqueue({ runId: 'r', queue: 'q', readyAt: clock.now() });
        const [stale] = await store.queue.claim('q', 'w1', 1, 100);
        clock.advance(101);
        const [fresh] = await store.queue.claim('q', 'w2', 1, 100);
        assert.ok(stale && fresh);
        await assert.rejects(
          store.commit({
            fence: { runId: 'r', fence: stale.fence },
            appends: [{ runId: 'r', expectedSeq: 2, events: [progress('stale')] }],
          }),
          ConflictError,
        );
        assert.equal(await store.queue.extend('r', stale.fence, 100), false);
        await store.commit({
          fence: { runId: 'r', fence: fresh.fence },
          appends: [{ runId: 'r', expectedSeq: 2, events: [progress('fresh')] }],
        });
        assert.equal(await store.queue.extend('r', fresh.fence, 100), true);
        assert.deepEqual((await store.journal.read('r', 1))[0]?.data, { message: 'fresh' });
      }));

    it('extends a held lease and releases it for a later time', () =>
      withStore(async (store, clock) => {
        await store.queue.enqueue({ runId: 'r', queue: 'q', readyAt: clock.now() });
        const [t] = await store.queue.claim('q', 'w1', 1, 100);
        assert.ok(t);
        clock.advance(80);
        assert.equal(await store.queue.extend('r', t.fence, 100), true);
        clock.advance(80);
        assert.deepEqual(await store.queue.claim('q', 'w2', 1, 100), []);
        await store.queue.release('r', t.fence, clock.now() + 500);
        assert.deepEqual(await store.queue.claim('q', 'w2', 1, 100), []);
        assert.equal(await store.queue.nextReadyAt('q'), clock.now() + 500);
        clock.advance(500);
        assert.equal((await store.queue.claim('q', 'w2', 1, 100)).length, 1);
      }));

    it('runs a session in order: the next run wakes when the head leaves', () =>
      withStore(async (store, clock) => {
        await store.commit({ session: { join: { sessionKey: 'k', runId: 'r1', queue: 'q' } } });
        await store.commit({ session: { join: { sessionKey: 'k', runId: 'r2', queue: 'q' } } });
        assert.deepEqual([...(await store.queue.pendingRunIds())], ['r1']);
        const result = await store.commit({
          deleteTasks: ['r1'],
          session: { leave: { sessionKey: 'k', runId: 'r1' } },
        });
        assert.deepEqual(
          result.woken.map((t) => t.runId),
          ['r2'],
        );
        assert.deepEqual(
          (await store.queue.claim('q', 'w', 5, 100)).map((t) => t.runId),
          ['r2'],
        );
        assert.ok(clock.now() > 0);
      }));

    it('refuses a live duplicate dedup key and accepts it after expiry', () =>
      withStore(async (store, clock) => {
        await store.commit({ dedup: { key: 'k', runId: 'r1', expiresAt: clock.now() + 1000 } });
        assert.equal(await store.runs.dedup('k', clock.now()), 'r1');
        await assert.rejects(
          store.commit({ dedup: { key: 'k', runId: 'r2', expiresAt: clock.now() + 1000 } }),
          ConflictError,
        );
        clock.advance(1001);
        assert.equal(await store.runs.dedup('k', clock.now()), null);
        await store.commit({ dedup: { key: 'k', runId: 'r3', expiresAt: clock.now() + 1000 } });
        assert.equal(await store.runs.dedup('k', clock.now()), 'r3');
      }));

    it('lists runnable runs of the projection: active and at the head of their session', () =>
      withStore(async (store, clock) => {
        const row = (runId: string, status: 'queued' | 'running' | 'completed' | 'waiting') => ({
          runId,
          actorId: 'a',
          sessionId: 's',
          agent: null,
          status,
          parentRunId: null,
          createdAt: clock.now(),
          updatedAt: clock.now(),
          lastSeq: 1,
          summary: null,
        });
        await store.commit({
          projection: [row('r1', 'running')],
          session: { join: { sessionKey: 'k', runId: 'r1', queue: 'q' } },
        });
        await store.commit({
          projection: [row('r2', 'queued')],
          session: { join: { sessionKey: 'k', runId: 'r2', queue: 'q' } },
        });
        await store.commit({ projection: [row('r3', 'completed'), row('r4', 'waiting')] });
        assert.deepEqual(
          (await store.runs.runnable()).map((r) => r.runId),
          ['r1'],
        );
        assert.equal((await store.runs.list({ actorId: 'a' })).length, 4);
        assert.equal((await store.runs.list({ status: 'completed' }))[0]?.runId, 'r3');
        assert.equal((await store.runs.get('r2'))?.status, 'queued');
      }));
  });
}

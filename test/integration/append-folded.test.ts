/**
 * runtime/append.ts's appendFolded on memory, SQLite and PostgreSQL: the plan is made from the
 * folded run and committed at the seq the fold ended on; a writer that takes that seq first makes
 * it refold and plan again (never a lost or doubled event); a closed journal is not retried.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JournalClosedError, NotFoundError } from '../../src/core/errors.ts';
import { EVENT_SCHEMA_VERSION, event } from '../../src/core/events.ts';
import type { RunState } from '../../src/core/run-state.ts';
import { appendFolded } from '../../src/runtime/append.ts';
import type { Commit, Store } from '../../src/store/ports.ts';
import { makeStore, requirePostgres, type Adapter } from '../helpers.ts';
import { submittedEvent } from '../events.ts';

const postgres = await requirePostgres();
const adapters: Adapter[] = ['memory', 'sqlite', ...(postgres ? (['postgres'] as const) : [])];

const submitted = submittedEvent();
const totals = {
  steps: 0,
  modelCalls: 0,
  toolCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  durationMs: 0,
};

/** The store, except that before its first commit another writer appends `racer` to the run. */
function racedOnce(store: Store, runId: string, racer = event('progress', { message: 'raced' })): Store {
  let raced = false;
  return new Proxy(store, {
    get(target, key) {
      if (key === 'commit') {
        return async (unit: Commit) => {
          if (!raced) {
            raced = true;
            await target.commit({ appends: [{ runId, expectedSeq: 'tail', events: [racer] }] });
          }
          return target.commit(unit);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function withStore(adapter: Adapter, fn: (store: Store) => Promise<void>): Promise<void> {
  const { store, cleanup } = makeStore(adapter);
  try {
    await fn(store);
  } finally {
    await cleanup();
  }
}

for (const adapter of adapters) {
  describe(`appendFolded on ${adapter}`, () => {
    it('refolds and plans again when another writer takes the folded seq first', () =>
      withStore(adapter, async (store) => {
        await store.journal.append('r1', 1, [submitted]);
        const seen: number[] = [];
        const { state, after } = await appendFolded(racedOnce(store, 'r1'), 'r1', (s: RunState) => {
          seen.push(s.seq);
          return {
            events: [event('progress', { message: `planned at ${s.seq}` })],
            parts: { upsertTasks: [{ runId: 'r1', queue: 'q', readyAt: 0 }] },
          };
        });
        // The first plan lost its seq to the racer; the second saw the racer's event.
        assert.deepEqual(seen, [1, 2]);
        assert.equal(state.seq, 2);
        assert.equal(after?.seq, 3);
        const events = await store.journal.read('r1');
        assert.deepEqual(
          events.map((e) => [e.seq, e.type, e.type === 'progress' ? e.data.message : null]),
          [
            [1, 'run.submitted', null],
            [2, 'progress', 'raced'],
            [3, 'progress', 'planned at 2'],
          ],
        );
        assert.ok(events.every((e) => e.v === EVENT_SCHEMA_VERSION));
        // The rest of the unit of work landed with the append, once.
        assert.deepEqual([...(await store.queue.pendingRunIds())], ['r1']);
        assert.equal((await store.runs.get('r1'))?.status, after?.status);
      }));

    it('does not retry an append to a closed journal', () =>
      withStore(adapter, async (store) => {
        await store.journal.append('r1', 1, [submitted, event('run.completed', { output: 'done', totals })]);
        let plans = 0;
        await assert.rejects(
          appendFolded(store, 'r1', () => {
            // A retried closed journal would loop: stop it so the test fails instead of hanging.
            if (++plans > 3) throw new Error('retried a closed journal');
            return { events: [event('progress', { message: 'late' })] };
          }),
          JournalClosedError,
        );
        assert.equal(plans, 1);
        assert.equal((await store.journal.read('r1')).length, 2);
      }));

    it('appends nothing when the plan is null, and refuses a run without a journal', () =>
      withStore(adapter, async (store) => {
        await store.journal.append('r1', 1, [submitted]);
        const { state, after } = await appendFolded(store, 'r1', () => null);
        assert.equal(state.seq, 1);
        assert.equal(after, null);
        assert.equal((await store.journal.read('r1')).length, 1);
        await assert.rejects(
          appendFolded(store, 'missing', () => null),
          NotFoundError,
        );
      }));
  });
}

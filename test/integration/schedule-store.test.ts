/**
 * Issue 19, schedules: the schedule port's contract on every store (memory, SQLite, PostgreSQL) —
 * a slot is claimed by exactly one caller however many race for it, a claimed record moves only
 * from the status it is in, the cursor never moves back, and pause/resume is kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SlotRecord } from '../../src/store/schedule-port.ts';
import { makeStore, requirePostgres, type Adapter } from '../helpers.ts';

const postgres = await requirePostgres();

const record = (key: string, slot: number, over: Partial<SlotRecord> = {}): SlotRecord => ({
  schedule: 'nightly',
  key,
  slot,
  kind: 'scheduled',
  status: 'pending',
  runId: null,
  reason: null,
  at: 1,
  ...over,
});

for (const adapter of ['memory', 'sqlite', 'postgres'] as Adapter[]) {
  describe(`schedule store contract on ${adapter}`, { skip: adapter === 'postgres' && !postgres }, () => {
    it('a slot is claimed exactly once, even by 20 concurrent claims', async () => {
      const { store, cleanup } = makeStore(adapter);
      try {
        const s = store.schedules;
        const wins = await Promise.all(
          Array.from({ length: 20 }, (_, i) => s.claim(record('2026-01-01T00:00:00.000Z', 1000, { at: i }))),
        );
        assert.equal(wins.filter(Boolean).length, 1);
        assert.equal(await s.claim(record('2026-01-01T00:00:00.000Z', 1000)), false);
        // The same key in another schedule is another slot.
        assert.equal(await s.claim(record('2026-01-01T00:00:00.000Z', 1000, { schedule: 'other' })), true);
        assert.equal((await s.list('nightly')).length, 1);
      } finally {
        await cleanup();
      }
    });

    it('settle moves a record only from the status it is in (first mover wins)', async () => {
      const { store, cleanup } = makeStore(adapter);
      try {
        const s = store.schedules;
        await s.claim(record('k1', 1000));
        assert.equal(
          await s.settle('nightly', 'k1', 'pending', { status: 'fired', runId: 'run_1', at: 5 }),
          true,
        );
        assert.equal(
          await s.settle('nightly', 'k1', 'pending', { status: 'fired', runId: 'run_2', at: 6 }),
          false,
        );
        assert.equal(await s.settle('nightly', 'nope', 'pending', { status: 'fired', at: 6 }), false);
        const r = await s.get('nightly', 'k1');
        assert.deepEqual(r, { ...record('k1', 1000), status: 'fired', runId: 'run_1', at: 5 });
        await s.claim(
          record('k2', 2000, { status: 'skipped', reason: 'missed: outside the catch-up window' }),
        );
        assert.equal((await s.get('nightly', 'k2'))?.reason, 'missed: outside the catch-up window');
      } finally {
        await cleanup();
      }
    });

    it('lists newest slot first, filtered by status and time', async () => {
      const { store, cleanup } = makeStore(adapter);
      try {
        const s = store.schedules;
        for (const [i, status] of (['fired', 'skipped', 'buffered', 'fired', 'pending'] as const).entries())
          await s.claim(record(`k${i}`, (i + 1) * 1000, { status }));
        assert.deepEqual(
          (await s.list('nightly')).map((r) => r.slot),
          [5000, 4000, 3000, 2000, 1000],
        );
        assert.deepEqual(
          (await s.list('nightly', { statuses: ['fired', 'pending'], limit: 2 })).map((r) => r.key),
          ['k4', 'k3'],
        );
        assert.deepEqual(
          (await s.list('nightly', { from: 2000, to: 3000 })).map((r) => r.key),
          ['k2', 'k1'],
        );
      } finally {
        await cleanup();
      }
    });

    it('the cursor never moves back; pause is kept, resume moves the cursor to now', async () => {
      const { store, cleanup } = makeStore(adapter);
      try {
        const s = store.schedules;
        assert.equal(await s.state('nightly'), null);
        await s.advance('nightly', 5000, 10);
        await s.advance('nightly', 3000, 11);
        assert.deepEqual(await s.state('nightly'), {
          schedule: 'nightly',
          paused: null,
          lastSlot: 5000,
          updatedAt: 11,
        });
        await s.setPaused('nightly', true, 12);
        assert.equal((await s.state('nightly'))?.paused, true);
        assert.equal((await s.state('nightly'))?.lastSlot, 5000);
        await s.setPaused('nightly', false, 9000);
        assert.deepEqual(await s.state('nightly'), {
          schedule: 'nightly',
          paused: false,
          lastSlot: 9000,
          updatedAt: 9000,
        });
        await s.setPaused('fresh', true, 1);
        assert.deepEqual(await s.state('fresh'), {
          schedule: 'fresh',
          paused: true,
          lastSlot: null,
          updatedAt: 1,
        });
        assert.deepEqual(
          (await s.states()).map((x) => x.schedule),
          ['fresh', 'nightly'],
        );
      } finally {
        await cleanup();
      }
    });
  });
}

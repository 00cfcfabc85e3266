/**
 * Issue 19, schedules, in process with a manual clock (no sleeping): one run per slot with channel
 * `schedule`, the idempotency key and metadata of the slot; overlap skip / buffer-one / allow;
 * catch-up after downtime; pause and resume kept across a restart; trigger; backfill exactly once
 * when run twice; jitter the same in every process. Workers are off, so runs stay active until the
 * test ends them (cancel): the overlap policies see exactly the runs the test leaves open.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defineAgent } from '../../src/core/agent.ts';
import {
  compileSchedule,
  fireTimeOf,
  nextSlots,
  slotIso,
  type ScheduleConfig,
} from '../../src/core/schedule.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { createSystem, type System } from '../../src/system.ts';
import { manualClock, type ManualClock } from '../../src/testing/clock.ts';
import { journal, ofType } from '../helpers.ts';

const echo = defineAgent({ name: 'echo', responsibility: 'Echo', instructions: 'Echo.', tools: [] });
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function systemWith(schedules: ScheduleConfig[], clock: ManualClock, path?: string): System {
  const store = path ? createSqliteStore({ path, clock }) : createMemoryStore({ clock });
  return createSystem({
    agents: [echo],
    model: scriptedModel([{ text: 'done' }]),
    store,
    clock,
    workers: false,
    schedules,
    onError: (e) => {
      throw e;
    },
    onWarning: () => {},
  });
}

const every2s = (over: Partial<ScheduleConfig> = {}): ScheduleConfig => ({
  name: 'ping',
  every: '2s',
  agent: 'echo',
  input: 'ping',
  overlap: 'allow',
  ...over,
});

/** Advance the clock by `ms` in 1 s ticks, evaluating at each. */
async function run(system: System, clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    clock.advance(1000);
    await system.schedules.tick();
  }
}

const records = async (system: System, name = 'ping') => system.store.schedules.list(name, { limit: 1000 });

describe('schedules (issue 19): firing, overlap, catch-up, pause, trigger, backfill', () => {
  it('each slot fires one run: channel schedule, idempotency key and metadata of the slot, actor schedule:<name>', async () => {
    const clock = manualClock(T0);
    const system = systemWith([every2s()], clock);
    await system.schedules.tick(); // first sight: starts now
    await run(system, clock, 10_000);
    // Evaluating the same instant again decides nothing new.
    await system.schedules.tick();
    const recs = await records(system);
    assert.deepEqual(
      recs.map((r) => [r.key, r.status]).reverse(),
      [2, 4, 6, 8, 10].map((s) => [slotIso(T0 + s * 1000), 'fired']),
    );
    const runs = await system.list({});
    assert.equal(runs.length, 5);
    const first = recs.at(-1)!;
    const submitted = ofType(await journal(system, first.runId!), 'run.submitted')[0]!.data;
    assert.equal(submitted.channel, 'schedule');
    assert.equal(submitted.actorId, 'schedule:ping');
    assert.equal(submitted.idempotencyKey, `schedule:ping:${first.key}`);
    assert.deepEqual(submitted.metadata, { schedule: 'ping', slot: first.key });
    await system.stop();
  });

  it("overlap 'skip' records a slot whose previous run is active as skipped; 'allow' fires it", async () => {
    for (const overlap of ['skip', 'allow'] as const) {
      const clock = manualClock(T0);
      const system = systemWith([every2s({ overlap })], clock);
      await system.schedules.tick();
      await run(system, clock, 6_000); // slots +2 s, +4 s, +6 s; the first run never ends
      const recs = (await records(system)).reverse();
      if (overlap === 'allow')
        assert.deepEqual(
          recs.map((r) => r.status),
          ['fired', 'fired', 'fired'],
        );
      else {
        assert.deepEqual(
          recs.map((r) => r.status),
          ['fired', 'skipped', 'skipped'],
        );
        assert.match(recs[1]!.reason!, new RegExp(`^overlap: run ${recs[0]!.runId} still active`));
        await system.cancel(recs[0]!.runId!);
        await run(system, clock, 2_000);
        assert.equal((await records(system))[0]!.status, 'fired');
      }
      await system.stop();
    }
  });

  it("overlap 'buffer-one' keeps one firing behind the active run and fires it when that run ends", async () => {
    const clock = manualClock(T0);
    const system = systemWith([every2s({ overlap: 'buffer-one' })], clock);
    await system.schedules.tick();
    await run(system, clock, 6_000);
    let recs = (await records(system)).reverse();
    assert.deepEqual(
      recs.map((r) => r.status),
      ['fired', 'buffered', 'skipped'],
    );
    assert.match(recs[2]!.reason!, /already buffered/);
    await system.cancel(recs[0]!.runId!);
    await system.schedules.tick();
    recs = (await records(system)).reverse();
    assert.deepEqual(
      recs.map((r) => r.status),
      ['fired', 'fired', 'skipped'],
    );
    const buffered = ofType(await journal(system, recs[1]!.runId!), 'run.submitted')[0]!.data;
    assert.equal(buffered.idempotencyKey, `schedule:ping:${slotIso(T0 + 4000)}`);
    await system.stop();
  });

  it("after downtime, slots inside catchup '1m' fire once each and older ones are recorded as skipped", async () => {
    const clock = manualClock(T0);
    const system = systemWith([every2s({ catchup: '1m' })], clock);
    // As a process that died two minutes ago left it.
    await system.store.schedules.advance('ping', T0 - 120_000, T0 - 120_000);
    await system.schedules.tick();
    await system.schedules.tick();
    const recs = (await records(system)).reverse();
    const fired = recs.filter((r) => r.status === 'fired');
    const skipped = recs.filter((r) => r.status === 'skipped');
    assert.equal(recs.length, 60);
    assert.equal(fired.length, 30);
    assert.equal(skipped.length, 30);
    assert.ok(fired.every((r) => r.slot > T0 - 60_000 && r.slot <= T0));
    assert.ok(
      skipped.every((r) => r.slot <= T0 - 60_000 && /^missed: outside the catch-up window/.test(r.reason!)),
    );
    assert.equal(new Set(fired.map((r) => r.runId)).size, 30);
    assert.equal((await system.list({})).length, 30);
    await system.stop();
  });

  it("catchup 'none' skips every missed slot", async () => {
    const clock = manualClock(T0 + 500);
    const system = systemWith([every2s({ catchup: 'none' })], clock);
    await system.store.schedules.advance('ping', T0 - 120_000, T0 - 120_000);
    await system.schedules.tick();
    const recs = await records(system);
    // Only the slot due now (T0, 0.5 s ago) fires: 59 missed ones are skipped.
    assert.equal(recs.filter((r) => r.status === 'fired').length, 1);
    assert.equal(recs[0]!.slot, T0);
    assert.equal(recs.filter((r) => r.status === 'skipped').length, 59);
    await system.stop();
  });

  it('pause and resume are durable across a restart and override the configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-sched-'));
    const path = join(dir, 'switchboard.db');
    try {
      const clock = manualClock(T0);
      let system = systemWith([every2s({ paused: false })], clock, path);
      await system.schedules.tick();
      await system.schedules.setPaused('ping', true);
      await system.stop();
      await (system.store as { close(): Promise<void> }).close();
      system = systemWith([every2s({ paused: false })], clock, path);
      assert.equal((await system.schedules.view('ping')).paused, true);
      assert.equal((await system.schedules.view('ping')).pausedBy, 'override');
      await run(system, clock, 10_000);
      assert.equal((await records(system)).length, 0, 'nothing fires while paused');
      await system.schedules.setPaused('ping', false);
      await run(system, clock, 2_000);
      assert.deepEqual(
        (await records(system)).map((r) => r.key),
        [slotIso(T0 + 12_000)],
        'paused slots never fire',
      );
      await system.stop();
      await (system.store as { close(): Promise<void> }).close();
      // A configuration that says paused is overridden by the resume too.
      system = systemWith([every2s({ paused: true })], clock, path);
      assert.equal((await system.schedules.view('ping')).paused, false);
      await system.stop();
      await (system.store as { close(): Promise<void> }).close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trigger fires one run now with its own key, recorded; backfill fires each unrecorded slot once, twice run', async () => {
    const clock = manualClock(T0);
    const system = systemWith([every2s({ every: 'rate(1 minute)' })], clock);
    const t1 = await system.schedules.trigger('ping');
    const t2 = await system.schedules.trigger('ping');
    assert.notEqual(t1.runId, t2.runId);
    const trig = await system.store.schedules.get('ping', t1.key);
    assert.equal(trig?.kind, 'trigger');
    assert.equal(trig?.status, 'fired');
    assert.equal(trig?.runId, t1.runId);
    const from = T0 - 10 * 60_000;
    const first = await system.schedules.backfill('ping', from, T0 - 60_000);
    assert.equal(first.slots, 10);
    assert.equal(first.fired.length, 10);
    const again = await system.schedules.backfill('ping', from, T0 - 60_000);
    assert.equal(again.fired.length, 0);
    assert.equal(again.existing, 10);
    assert.equal((await system.list({})).length, 12);
    await assert.rejects(system.schedules.trigger('nope'), /unknown schedule "nope"/);
    await system.stop();
  });

  it('cron is read in its time zone, across daylight saving time', () => {
    const ny = compileSchedule(
      { name: 'ny', cron: '0 9 * * *', timezone: 'America/New_York', input: 'x' },
      'schedules[0]',
    );
    assert.deepEqual(nextSlots(ny, Date.UTC(2026, 2, 6), 4).map(slotIso), [
      '2026-03-06T14:00:00.000Z',
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
    ]);
  });

  it('jitter is deterministic per (schedule, slot), within [0, jitter), and slots fire at slot + jitter', async () => {
    const spec = compileSchedule({ name: 'j', every: '1m', input: 'x', jitter: '30s' }, 'schedules[0]');
    const again = compileSchedule({ name: 'j', every: '1m', input: 'x', jitter: '30s' }, 'schedules[0]');
    const delays = [1, 2, 3, 4, 5].map((k) => fireTimeOf(spec, T0 + k * 60_000) - (T0 + k * 60_000));
    assert.deepEqual(
      delays,
      [1, 2, 3, 4, 5].map((k) => fireTimeOf(again, T0 + k * 60_000) - (T0 + k * 60_000)),
    );
    assert.ok(delays.every((d) => d >= 0 && d < 30_000));
    assert.ok(new Set(delays).size > 1);
    const clock = manualClock(T0);
    const system = systemWith([{ name: 'j', every: '1m', input: 'x', jitter: '30s', agent: 'echo' }], clock);
    await system.schedules.tick();
    clock.set(T0 + 60_000 + delays[0]! - 1);
    await system.schedules.tick();
    assert.equal((await records(system, 'j')).length, 0, 'not before its fire time');
    clock.set(T0 + 60_000 + delays[0]!);
    await system.schedules.tick();
    assert.equal((await records(system, 'j')).length, 1);
    await system.stop();
  });
});

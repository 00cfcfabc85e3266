/**
 * The scheduler: every process that runs workers evaluates every schedule about once a second (and
 * exactly at the next fire time). Each due slot is decided once, by whichever process wins the
 * slot's claim in the store (`INSERT … ON CONFLICT DO NOTHING`), and its run is submitted with the
 * idempotency key `schedule:<name>:<slot ISO time>` — a second guard: a process that dies between
 * the claim and the submit leaves the record `pending`, and any process re-submits it with the same
 * key, which can only return the run that already exists. So a slot fires exactly once however
 * many processes run and whichever of them crash.
 */
import { formatDuration } from '../core/duration.ts';
import { NotFoundError, UserError } from '../core/errors.ts';
import { TERMINAL_STATUSES, type RunStatus } from '../core/run-state.ts';
import {
  fireTimeOf,
  isMissed,
  nextSlots,
  scheduleActor,
  SCHEDULE_DEFAULTS,
  slotIso,
  slotsBetween,
  checkScheduleAgents,
  compileSchedules,
  type ScheduleConfig,
  type ScheduleSpec,
} from '../core/schedule.ts';
import type { Store } from '../store/ports.ts';
import type { SlotKind, SlotRecord, SlotStatus } from '../store/schedule-port.ts';

/** What the scheduler submits (a subset of the system's submit request). */
export interface ScheduleSubmit {
  actorId: string;
  sessionId: string;
  input: string;
  agent?: string;
  channel: 'schedule';
  idempotencyKey: string;
  metadata: { schedule: string; slot: string };
}

export interface SchedulerDeps {
  store: Store;
  specs: readonly ScheduleSpec[];
  submit(request: ScheduleSubmit): Promise<{ runId: string }>;
  newId(prefix: string): string;
  onError(error: unknown): void;
  /** Longest pause between evaluations (1 s): picks up pauses, resumes and finished runs. */
  tickMs?: number;
}

/** One schedule as `schedules list` and `GET /v1/schedules` show it. */
export interface ScheduleView {
  name: string;
  cron: string | null;
  every: string | null;
  timezone: string;
  agent: string | null;
  overlap: ScheduleSpec['overlap'];
  catchup: string;
  jitterMs: number;
  paused: boolean;
  /** Where `paused` comes from: the configuration, or a durable `pause`/`resume`. */
  pausedBy: 'config' | 'override';
  lastSlot: string | null;
  /** The next three slots and when each fires (slot plus its jitter), ISO times. */
  next: { slot: string; fireAt: string }[];
  /** Recent slot records, newest first, with their runs' status. */
  slots: (Omit<SlotRecord, 'slot' | 'at'> & { slot: string; at: string; runStatus: RunStatus | null })[];
}

export interface BackfillResult {
  schedule: string;
  from: string;
  to: string;
  /** Slots in the range. */
  slots: number;
  fired: { slot: string; runId: string }[];
  /** Slots that already had a record (fired or skipped before): left as they were. */
  existing: number;
}

/** Slots one backfill may cover. */
const MAX_BACKFILL = 10_000;
/** A `pending` record older than this was left by a process that died: re-drive it. */
const STALE_PENDING_MS = 5_000;
/** Due slots decided per schedule per evaluation (the rest wait for the next one). */
const MAX_DUE = 1_000;

const idemOf = (r: { schedule: string; key: string }): string => `schedule:${r.schedule}:${r.key}`;

/** The scheduler and the operations on schedules (`system.schedules`). */
export class Scheduler {
  readonly #d: SchedulerDeps;
  readonly #specs: Map<string, ScheduleSpec>;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #stopped = true;

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
    this.#specs = new Map(deps.specs.map((s) => [s.name, s]));
  }

  /** The configured schedules. */
  get specs(): ScheduleSpec[] {
    return [...this.#specs.values()];
  }

  spec(name: string): ScheduleSpec {
    const spec = this.#specs.get(name);
    if (!spec) {
      const known = [...this.#specs.keys()];
      throw new NotFoundError(
        `unknown schedule "${name}"${known.length ? ` (configured: ${known.join(', ')})` : ' (none configured)'}`,
      );
    }
    return spec;
  }

  /** Evaluate on a timer until {@link stop}; timers are unref'd (they never keep a process alive). */
  start(): void {
    if (!this.#stopped || this.#specs.size === 0) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.#d.onError(error))
        .finally(() => this.#schedule(this.#delay()));
    }, delay);
    this.#timer.unref();
  }

  /** Until the next fire time of any schedule, at most `tickMs`. */
  #delay(): number {
    const now = this.#d.store.now();
    let next = now + (this.#d.tickMs ?? 1_000);
    for (const spec of this.#specs.values()) {
      const [slot] = nextSlots(spec, now - spec.jitterMs, 1);
      if (slot !== undefined) {
        const at = fireTimeOf(spec, slot);
        if (at > now && at < next) next = at;
      }
    }
    return Math.max(1, next - now);
  }

  /** Evaluate every schedule once (one evaluation at a time in this process). */
  tick(): Promise<void> {
    const run = this.#running.then(async () => {
      for (const spec of this.#specs.values()) {
        try {
          await this.#evaluate(spec);
        } catch (error) {
          this.#d.onError(error);
        }
      }
    });
    this.#running = run.catch(() => {});
    return run;
  }

  async #evaluate(spec: ScheduleSpec): Promise<void> {
    const { store } = this.#d;
    const s = store.schedules;
    const now = store.now();
    await this.#redrive(spec, now);
    const state = await s.state(spec.name);
    // First sight of a schedule: it starts now; slots before it existed are not missed.
    if (state?.lastSlot == null) return void (await s.advance(spec.name, now, now));
    if (state.paused ?? spec.paused) {
      // Paused: slots pass unrecorded (a write only when one came due, not every tick).
      if (slotsBetween(spec, state.lastSlot, now, 1).length) await s.advance(spec.name, now, now);
      return;
    }
    let cursor = state.lastSlot;
    cursor = await this.#recordMissed(spec, cursor, now);
    const slots = slotsBetween(spec, cursor, now, MAX_DUE);
    // In order, up to the first slot whose jitter puts it after now: it and later ones wait.
    const waiting = slots.findIndex((slot) => fireTimeOf(spec, slot) > now);
    const due = waiting === -1 ? slots : slots.slice(0, waiting);
    for (const [i, slot] of due.entries()) {
      const newest = i === due.length - 1;
      if (isMissed(spec, slot, now, newest)) {
        await this.#claim(spec, slot, 'scheduled', 'skipped', 'missed: later than the catch-up window');
      } else await this.#decide(spec, slot);
      cursor = slot;
    }
    if (cursor > state.lastSlot) await s.advance(spec.name, cursor, now);
  }

  /**
   * Slots certainly outside the catch-up window (a process was down) are recorded as skipped, one
   * record each up to a limit and then one record for the rest; returns the new cursor.
   */
  async #recordMissed(spec: ScheduleSpec, cursor: number, now: number): Promise<number> {
    const window = Math.max(spec.catchupMs ?? 0, SCHEDULE_DEFAULTS.graceMs);
    const before = now - window - spec.jitterMs;
    if (before <= cursor) return cursor;
    const max = SCHEDULE_DEFAULTS.maxMissedRecords;
    const missed = slotsBetween(spec, cursor, before, max + 1);
    if (missed.length === 0) return cursor;
    for (const slot of missed.slice(0, max))
      await this.#claim(spec, slot, 'scheduled', 'skipped', 'missed: outside the catch-up window');
    const rest = missed[max];
    if (rest !== undefined)
      await this.#claim(
        spec,
        rest,
        'scheduled',
        'skipped',
        `missed: outside the catch-up window, with every later slot until ${slotIso(before)}`,
      );
    const last = rest !== undefined ? before : missed.at(-1)!;
    await this.#d.store.schedules.advance(spec.name, last, now);
    return last;
  }

  /** A due slot on time: fire it, or skip or buffer it when an earlier run is still active. */
  async #decide(spec: ScheduleSpec, slot: number): Promise<void> {
    if (spec.overlap !== 'allow') {
      const active = await this.#active(spec.name);
      if (active) {
        if (spec.overlap === 'skip')
          return void (await this.#claim(
            spec,
            slot,
            'scheduled',
            'skipped',
            `overlap: run ${active} still active`,
          ));
        const buffered = await this.#d.store.schedules.list(spec.name, { statuses: ['buffered'], limit: 1 });
        if (buffered.length)
          return void (await this.#claim(
            spec,
            slot,
            'scheduled',
            'skipped',
            `overlap: run ${active} still active and slot ${buffered[0]!.key} already buffered`,
          ));
        return void (await this.#claim(spec, slot, 'scheduled', 'buffered', null));
      }
    }
    if (await this.#claim(spec, slot, 'scheduled', 'pending', null))
      await this.#fire(spec, { key: slotIso(slot), slot }, 'pending');
  }

  /** The run id of a recent firing still active (queued, running, waiting), or of one being submitted. */
  async #active(name: string): Promise<string | null> {
    const recent = await this.#d.store.schedules.list(name, { statuses: ['fired', 'pending'], limit: 5 });
    for (const r of recent) {
      if (r.status === 'pending') return r.runId ?? `(slot ${r.key}, being submitted)`;
      if (!r.runId) continue;
      const row = await this.#d.store.runs.get(r.runId);
      if (row && !TERMINAL_STATUSES.has(row.status)) return r.runId;
    }
    return null;
  }

  /** Records left `pending` by a dead process, and a buffered slot whose blocker has finished. */
  async #redrive(spec: ScheduleSpec, now: number): Promise<void> {
    const open = await this.#d.store.schedules.list(spec.name, {
      statuses: ['pending', 'buffered'],
      limit: 20,
    });
    for (const r of open.filter((x) => x.status === 'pending' && now - x.at > STALE_PENDING_MS))
      await this.#fire(spec, r, 'pending');
    const buffered = open.filter((x) => x.status === 'buffered').at(-1);
    if (buffered && !(await this.#active(spec.name))) await this.#fire(spec, buffered, 'buffered');
  }

  /** Claim a slot with its outcome; true when this process won it. */
  #claim(
    spec: ScheduleSpec,
    slot: number,
    kind: SlotKind,
    status: SlotStatus,
    reason: string | null,
    key = slotIso(slot),
  ): Promise<boolean> {
    return this.#d.store.schedules.claim({
      schedule: spec.name,
      key,
      slot,
      kind,
      status,
      runId: null,
      reason,
      at: this.#d.store.now(),
    });
  }

  /** Submit a claimed slot's run (idempotent by its key) and record it fired. */
  async #fire(spec: ScheduleSpec, r: { key: string; slot: number }, from: SlotStatus): Promise<string> {
    const idempotencyKey = idemOf({ schedule: spec.name, key: r.key });
    const { runId } = await this.#d.submit({
      actorId: scheduleActor(spec.name),
      // One session per slot: runs of one session wait for each other, and slots must not.
      sessionId: idempotencyKey,
      input: spec.input,
      ...(spec.agent !== null ? { agent: spec.agent } : {}),
      channel: 'schedule',
      idempotencyKey,
      metadata: { schedule: spec.name, slot: slotIso(r.slot) },
    });
    await this.#d.store.schedules.settle(spec.name, r.key, from, {
      status: 'fired',
      runId,
      at: this.#d.store.now(),
    });
    return runId;
  }

  /** Fire one run now, outside the schedule (its own key, recorded as a `trigger`). */
  async trigger(name: string): Promise<{ schedule: string; key: string; runId: string }> {
    const spec = this.spec(name);
    const now = this.#d.store.now();
    const key = `trigger:${this.#d.newId('trg')}`;
    await this.#claim(spec, now, 'trigger', 'pending', null, key);
    return { schedule: name, key, runId: await this.#fire(spec, { key, slot: now }, 'pending') };
  }

  /** Fire every slot in [from, to] (not after now) that has no record yet, each exactly once. */
  async backfill(name: string, from: number, to: number): Promise<BackfillResult> {
    const spec = this.spec(name);
    if (!Number.isFinite(from) || !Number.isFinite(to))
      throw new UserError('backfill needs --from and --to as ISO times', 'from');
    if (from > to) throw new UserError('backfill --from is after --to', 'from');
    const until = Math.min(to, this.#d.store.now());
    const slots = slotsBetween(spec, from - 1, until, MAX_BACKFILL + 1);
    if (slots.length > MAX_BACKFILL)
      throw new UserError(`backfill covers more than ${MAX_BACKFILL} slots: split the range`, 'to');
    const fired: BackfillResult['fired'] = [];
    for (const slot of slots) {
      if (!(await this.#claim(spec, slot, 'backfill', 'pending', null))) continue;
      fired.push({
        slot: slotIso(slot),
        runId: await this.#fire(spec, { key: slotIso(slot), slot }, 'pending'),
      });
    }
    return {
      schedule: name,
      from: slotIso(from),
      to: slotIso(to),
      slots: slots.length,
      fired,
      existing: slots.length - fired.length,
    };
  }

  /** Pause or resume a schedule durably (overrides the configuration's `paused`). */
  async setPaused(name: string, paused: boolean): Promise<ScheduleView> {
    this.spec(name);
    await this.#d.store.schedules.setPaused(name, paused, this.#d.store.now());
    return this.view(name);
  }

  async view(name: string, recent = 20): Promise<ScheduleView> {
    const spec = this.spec(name);
    const { store } = this.#d;
    const state = await store.schedules.state(name);
    const now = store.now();
    const after = Math.max(now, state?.lastSlot ?? now);
    const records = await store.schedules.list(name, { limit: recent });
    const slots: ScheduleView['slots'] = [];
    for (const r of records) {
      const row = r.runId ? await store.runs.get(r.runId) : null;
      slots.push({ ...r, slot: slotIso(r.slot), at: slotIso(r.at), runStatus: row?.status ?? null });
    }
    return {
      name,
      cron: spec.cron,
      every: spec.every,
      timezone: spec.timezone,
      agent: spec.agent,
      overlap: spec.overlap,
      catchup: spec.catchupMs === null ? 'none' : formatDuration(spec.catchupMs),
      jitterMs: spec.jitterMs,
      paused: state?.paused ?? spec.paused,
      pausedBy: state?.paused == null ? 'config' : 'override',
      lastSlot: state?.lastSlot == null ? null : slotIso(state.lastSlot),
      next: nextSlots(spec, after, 3).map((slot) => ({
        slot: slotIso(slot),
        fireAt: slotIso(fireTimeOf(spec, slot)),
      })),
      slots,
    };
  }

  async list(recent?: number): Promise<ScheduleView[]> {
    const out: ScheduleView[] = [];
    for (const name of this.#specs.keys()) out.push(await this.view(name, recent));
    return out;
  }
}

/**
 * The scheduler of a system (the composition root's one call): configured schedules compiled when
 * given as written, their agents checked against the system's.
 */
export function schedulerOf(
  options: { schedules?: readonly (ScheduleConfig | ScheduleSpec)[]; scheduleTickMs?: number },
  agents: ReadonlyMap<string, unknown>,
  store: Store,
  submit: SchedulerDeps['submit'],
  newId: (prefix: string) => string,
  onError: (error: unknown) => void,
): Scheduler {
  const specs = compileSchedules(options.schedules ?? []);
  checkScheduleAgents(specs, new Set(agents.keys()));
  return new Scheduler({
    store,
    specs,
    submit,
    newId,
    onError,
    ...(options.scheduleTickMs !== undefined ? { tickMs: options.scheduleTickMs } : {}),
  });
}

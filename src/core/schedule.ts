/**
 * Schedules as data: a configured schedule compiled into a {@link ScheduleSpec}, its slot times
 * (cron expressions evaluated by croner in the schedule's time zone, or a fixed interval aligned
 * to the Unix epoch), and each slot's jitter. Pure: the time is always passed in, and every
 * process computes the same slots and the same fire times, which is what makes "one run per slot"
 * checkable by a key.
 */
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { z } from 'zod';
import { parseDuration, parseInterval } from './duration.ts';
import { ConfigError } from './errors.ts';
import { lazy } from './lazy.ts';

export type OverlapPolicy = 'skip' | 'buffer-one' | 'allow';
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'buffer-one', 'allow'];

/** A schedule as a project writes it (`schedules: [...]` in the configuration). */
export interface ScheduleConfig {
  /** Unique; names the runs' actor (`schedule:<name>`) and the CLI's argument. */
  name: string;
  /** A cron expression (5 fields, or 6 with seconds first), evaluated in `timezone`. */
  cron?: string;
  /** A fixed interval instead of `cron`: `'5m'`, `'2s'`, `'rate(5 minutes)'`. */
  every?: string;
  /** IANA time zone of `cron` (default `UTC`). */
  timezone?: string;
  /** The agent each run goes to (routed when absent). */
  agent?: string;
  /** The request each run submits. */
  input: string;
  /** A slot whose previous run is still active: `skip` (default), `buffer-one`, `allow`. */
  overlap?: OverlapPolicy;
  /** How late a missed slot may still fire after downtime (`'1h'` by default), or `'none'`. */
  catchup?: string;
  /** Each slot fires up to this much later (`'30s'`), the same delay in every process. */
  jitter?: string;
  /** Start paused (`switchboard schedules resume` overrides it, durably). */
  paused?: boolean;
}

/** The configuration schema of one schedule (config.ts's `schedules: z.array(scheduleSchemaOf())`). */
function buildScheduleSchema() {
  return z
    .object({
      name: z.string().min(1),
      cron: z.string().min(1).optional(),
      every: z.string().min(1).optional(),
      timezone: z.string().min(1).optional(),
      agent: z.string().min(1).optional(),
      input: z.string().min(1, 'must be the request each run submits'),
      overlap: z.enum(['skip', 'buffer-one', 'allow']).optional(),
      catchup: z.string().min(1).optional(),
      jitter: z.string().min(1).optional(),
      paused: z.boolean().optional(),
    })
    .strict();
}
/** Built on first use: only compiling a configuration needs it. */
export const scheduleSchemaOf = lazy(buildScheduleSchema);

/** A compiled schedule: every default filled in, every duration in ms. */
export interface ScheduleSpec {
  name: string;
  cron: string | null;
  /** `every` as written (`'5m'`, `'rate(5 minutes)'`), and in ms. */
  every: string | null;
  everyMs: number | null;
  timezone: string;
  agent: string | null;
  input: string;
  overlap: OverlapPolicy;
  /** `null` for `catchup: 'none'`. */
  catchupMs: number | null;
  jitterMs: number;
  paused: boolean;
}

/** Schedule defaults (config.ts's DEFAULTS holds these too). */
export const SCHEDULE_DEFAULTS = {
  timezone: 'UTC',
  overlap: 'skip' as OverlapPolicy,
  catchup: '1h',
  jitter: '0s',
  /** A slot evaluated this late is still on time (a slow tick), even with `catchup: 'none'`. */
  graceMs: 5_000,
  /** Missed slots recorded one by one before the rest are summed up in one record. */
  maxMissedRecords: 1_000,
} as const;

/** The system actor a schedule's runs are submitted as. */
export const scheduleActor = (name: string): string => `schedule:${name}`;

/** A slot's time as it appears in keys, records and output. */
export const slotIso = (slot: number): string => new Date(slot).toISOString();

/** The idempotency key of a slot's run: one run per (schedule, slot) across every process. */
export const slotKey = (name: string, slot: number): string => `schedule:${name}:${slotIso(slot)}`;

const NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function duration(value: string, key: string, parse: (v: string) => number): number {
  try {
    return parse(value);
  } catch (error) {
    throw new ConfigError(key, (error as Error).message);
  }
}

/**
 * Validate one configured schedule (`key` is its path, `schedules[0]`) and fill in its defaults.
 * Throws a one-line {@link ConfigError}: a bad cron expression, an unknown time zone, both or
 * neither of `cron` and `every`, a bad duration.
 */
export function compileSchedule(c: ScheduleConfig, key: string): ScheduleSpec {
  if (typeof c.name !== 'string' || !NAME.test(c.name))
    throw new ConfigError(
      `${key}.name`,
      'must be letters, digits, _ . - (at most 64, starting with a letter or digit)',
    );
  if (c.cron !== undefined && c.every !== undefined)
    throw new ConfigError(key, `schedule "${c.name}" has both cron and every: give one`);
  if (c.cron === undefined && c.every === undefined)
    throw new ConfigError(key, `schedule "${c.name}" needs cron or every`);
  const timezone = c.timezone ?? SCHEDULE_DEFAULTS.timezone;
  if (!isTimeZone(timezone))
    throw new ConfigError(
      `${key}.timezone`,
      `unknown time zone "${timezone}" (use an IANA name such as Europe/Paris)`,
    );
  let everyMs: number | null = null;
  if (c.every !== undefined) {
    everyMs = duration(c.every, `${key}.every`, parseInterval);
    if (everyMs < 1000 || !Number.isInteger(everyMs))
      throw new ConfigError(`${key}.every`, `must be at least 1s in whole milliseconds, got "${c.every}"`);
  }
  if (c.cron !== undefined) {
    try {
      new Cron(c.cron, { timezone, paused: true }).nextRun(new Date(0));
    } catch (error) {
      const why = (error as Error).message.replace(/^CronPattern: /, '').split('\n')[0];
      throw new ConfigError(`${key}.cron`, `invalid cron expression "${c.cron}": ${why}`);
    }
  }
  const catchup = c.catchup ?? SCHEDULE_DEFAULTS.catchup;
  return {
    name: c.name,
    cron: c.cron ?? null,
    every: c.every ?? null,
    everyMs,
    timezone,
    agent: c.agent ?? null,
    input: c.input,
    overlap: c.overlap ?? SCHEDULE_DEFAULTS.overlap,
    catchupMs: catchup === 'none' ? null : duration(catchup, `${key}.catchup`, parseDuration),
    jitterMs: duration(c.jitter ?? SCHEDULE_DEFAULTS.jitter, `${key}.jitter`, parseDuration),
    paused: c.paused ?? false,
  };
}

/** Compile every schedule (one already compiled is kept); names must be unique. */
export function compileSchedules(list: readonly (ScheduleConfig | ScheduleSpec)[]): ScheduleSpec[] {
  const seen = new Set<string>();
  return list.map((c, i) => {
    const spec = 'everyMs' in c ? c : compileSchedule(c, `schedules[${i}]`);
    if (seen.has(spec.name))
      throw new ConfigError(`schedules[${i}].name`, `schedule "${spec.name}" is defined twice`);
    seen.add(spec.name);
    return spec;
  });
}

/** Schedules may only name agents of the system (`agents` are their names). */
export function checkScheduleAgents(specs: readonly ScheduleSpec[], agents: ReadonlySet<string>): void {
  specs.forEach((s, i) => {
    if (s.agent !== null && !agents.has(s.agent))
      throw new ConfigError(`schedules[${i}].agent`, `schedule "${s.name}" names unknown agent "${s.agent}"`);
  });
}

/** Up to `limit` slot times strictly after `after` and at or before `until`, in order. */
export function slotsBetween(spec: ScheduleSpec, after: number, until: number, limit: number): number[] {
  const out: number[] = [];
  if (spec.everyMs !== null) {
    // Aligned to the epoch: every process, whenever it started, agrees on the slots.
    const first = (Math.floor(after / spec.everyMs) + 1) * spec.everyMs;
    for (let t = first; t <= until && out.length < limit; t += spec.everyMs) out.push(t);
    return out;
  }
  const cron = new Cron(spec.cron!, { timezone: spec.timezone, paused: true });
  let prev = new Date(after);
  while (out.length < limit) {
    const next = cron.nextRun(prev);
    if (!next || next.getTime() > until) break;
    out.push(next.getTime());
    prev = next;
  }
  return out;
}

/** The next `n` slot times after `after`. */
export const nextSlots = (spec: ScheduleSpec, after: number, n: number): number[] =>
  slotsBetween(spec, after, Number.MAX_SAFE_INTEGER, n);

/**
 * A slot's jitter: a hash of (schedule, slot) scaled into [0, jitterMs). Deterministic, so every
 * process computes the same fire time and none fires early for another.
 */
export function jitterOf(spec: ScheduleSpec, slot: number): number {
  if (spec.jitterMs <= 0) return 0;
  const h = createHash('sha256')
    .update(`${spec.name}\u0000${slotIso(slot)}`)
    .digest();
  return Math.floor((h.readUInt32BE(0) / 2 ** 32) * spec.jitterMs);
}

/** When a slot fires: its time plus its jitter. */
export const fireTimeOf = (spec: ScheduleSpec, slot: number): number => slot + jitterOf(spec, slot);

/**
 * Whether a due slot still fires at `now` or was missed: on time within the grace, else within the
 * catch-up window; with `catchup: 'none'`, only the newest due slot, and only when on time.
 */
export function isMissed(spec: ScheduleSpec, slot: number, now: number, newest: boolean): boolean {
  const late = now - fireTimeOf(spec, slot);
  if (spec.catchupMs === null) return !(newest && late <= SCHEDULE_DEFAULTS.graceMs);
  return late > Math.max(spec.catchupMs, SCHEDULE_DEFAULTS.graceMs);
}

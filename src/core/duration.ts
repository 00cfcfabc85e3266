/**
 * Durations as people write them: `90s`, `15m`, `24h`, `7d`, `2w`, plain milliseconds, and the
 * EventBridge form `rate(5 minutes)`. One parser for every flag and configuration key that takes
 * a duration (telemetry windows, schedules).
 */

import { UserError } from './errors.ts';

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const RATE_UNITS: Readonly<Record<string, number>> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Parse a duration such as `15m`, `24h`, `7d`, `90s` or plain milliseconds into ms. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(value.trim());
  if (!m) throw new UserError(`invalid duration "${value}" (use e.g. 90s, 15m, 24h, 7d)`);
  return Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
}

/**
 * {@link parseDuration}, or an EventBridge rate expression: `rate(1 minute)`, `rate(5 minutes)`,
 * `rate(2 hours)`, `rate(1 day)` (seconds too).
 */
export function parseInterval(value: string): number {
  const rate = /^rate\(\s*(\d+)\s+(second|minute|hour|day)s?\s*\)$/i.exec(value.trim());
  if (rate) return Number(rate[1]) * (RATE_UNITS[rate[2]!.toLowerCase()] ?? 0);
  if (/^rate\(/i.test(value.trim()))
    throw new UserError(`invalid rate expression "${value}" (use e.g. rate(5 minutes), rate(1 hour))`);
  return parseDuration(value);
}

/** A duration in ms written back the short way (`3600000` → `1h`, `90000` → `90s`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['w', UNITS.w!],
    ['d', UNITS.d!],
    ['h', UNITS.h!],
    ['m', UNITS.m!],
    ['s', UNITS.s!],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

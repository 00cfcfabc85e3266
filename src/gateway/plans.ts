/**
 * Usage plans: per-key request rate (a token bucket: `rate` tokens a second, holding at most
 * `burst`), a daily quota, and a cap on open WebSocket connections.
 *
 * The counters sit behind the {@link UsageCounter} port: {@link UsageMeter} keeps them in this
 * process; `createPostgresUsage` (usage-postgres.ts) keeps them in one table shared by every
 * gateway replica. Both charge a request with the same pure function, {@link meterRequest}.
 */
import { ConfigError } from '../core/errors.ts';

export interface Plan {
  /** Sustained requests per second; `Infinity` for no rate limit. */
  rate: number;
  /** Requests admitted at once on top of an empty history (the bucket's size); `Infinity` for no rate limit. */
  burst: number;
  /** Requests per UTC day; `null` for none. */
  dailyQuota: number | null;
  /** Open WebSocket connections per key. */
  maxConnections: number;
}

/** Plans every gateway knows; `--plan` picks one by name. */
export const DEFAULT_PLANS: Readonly<Record<string, Plan>> = {
  default: { rate: 20, burst: 40, dailyQuota: 50_000, maxConnections: 20 },
  free: { rate: 2, burst: 5, dailyQuota: 1_000, maxConnections: 2 },
  pro: { rate: 100, burst: 200, dailyQuota: 1_000_000, maxConnections: 200 },
  unlimited: {
    rate: Number.POSITIVE_INFINITY,
    burst: Number.POSITIVE_INFINITY,
    dailyQuota: null,
    maxConnections: 100_000,
  },
};

/** The outcome of charging one request to a key. */
export type Admission =
  { ok: true } | { ok: false; reason: 'rate_limited' | 'quota_exceeded'; retryAfterS: number };

/**
 * Where plan counters live. Implementations: {@link UsageMeter} (this process) and
 * `createPostgresUsage` (shared by every replica on one database).
 */
export interface UsageCounter {
  /** The plan named, or the default plan for a name no longer configured. */
  plan(name: string): Plan;
  /** Charge one request to `keyId` under `planName`. */
  admit(keyId: string, planName: string): Promise<Admission>;
  /** Requests charged today (UTC) to `keyId`, for `keys list` and admin views. */
  usedToday(keyId: string): Promise<number>;
  close(): Promise<void>;
}

/** One key's counters. Every field is finite, so any adapter can store it as is. */
export interface Bucket {
  tokens: number;
  /** When `tokens` was last refilled, ms since the epoch. */
  at: number;
  /** The UTC day `used` counts, days since the epoch. */
  day: number;
  used: number;
}

const DAY_MS = 86_400_000;

/** Reject plans the meter cannot enforce; `path` prefixes the configuration key in the error. */
export function checkPlans(plans: Readonly<Record<string, Plan>>, path = 'plans'): void {
  for (const [name, p] of Object.entries(plans)) {
    if (!(p.rate > 0)) throw new ConfigError(`${path}.${name}.rate`, 'must be a positive number');
    if (!(p.burst >= 1)) throw new ConfigError(`${path}.${name}.burst`, 'must be at least 1');
    if (p.dailyQuota !== null && !(p.dailyQuota >= 0))
      throw new ConfigError(`${path}.${name}.dailyQuota`, 'must be null or at least 0');
    if (!(p.maxConnections >= 1))
      throw new ConfigError(`${path}.${name}.maxConnections`, 'must be at least 1');
  }
}

/** The plan named, or the default plan for a name no longer configured. */
export function planOf(plans: Readonly<Record<string, Plan>>, name: string): Plan {
  return (Object.hasOwn(plans, name) ? plans[name] : undefined) ?? plans.default ?? DEFAULT_PLANS.default!;
}

/** An infinite rate or bucket never runs dry: such a plan has no rate limit. */
const unmetered = (plan: Plan): boolean => !Number.isFinite(plan.rate) || !Number.isFinite(plan.burst);

/** The counters of a key seen for the first time: a full bucket (empty for an unmetered plan). */
export function newBucket(plan: Plan, now: number): Bucket {
  // Infinity never enters a bucket: an unmetered plan skips the tokens altogether.
  return { tokens: unmetered(plan) ? 0 : plan.burst, at: now, day: Math.floor(now / DAY_MS), used: 0 };
}

/**
 * Charge one request at `now` to a key whose counters are `b`: the admission and the counters to
 * store. Pure, so the in-memory meter and every shared store decide alike.
 *
 * Replicas' clocks differ a little, so time never runs backwards for a bucket: a request stamped
 * before `b.at` refills nothing, and one stamped before `b.day` counts on `b.day` (a lagging
 * replica must not reset a day a leading one already started).
 */
export function meterRequest(b: Bucket, plan: Plan, now: number): { bucket: Bucket; admission: Admission } {
  const today = Math.floor(now / DAY_MS);
  const day = Math.max(b.day, today);
  const used = day === b.day ? b.used : 0;
  if (plan.dailyQuota !== null && used >= plan.dailyQuota) {
    return {
      bucket: { ...b, day, used },
      admission: {
        ok: false,
        reason: 'quota_exceeded',
        retryAfterS: Math.max(1, Math.ceil(((day + 1) * DAY_MS - now) / 1000)),
      },
    };
  }
  if (unmetered(plan)) return { bucket: { ...b, day, used: used + 1 }, admission: { ok: true } };
  const at = Math.max(b.at, now);
  const tokens = Math.min(plan.burst, b.tokens + ((at - b.at) / 1000) * plan.rate);
  if (tokens < 1) {
    return {
      bucket: { tokens, at, day, used },
      admission: {
        ok: false,
        reason: 'rate_limited',
        retryAfterS: Math.max(1, Math.ceil((1 - tokens) / plan.rate)),
      },
    };
  }
  return { bucket: { tokens: tokens - 1, at, day, used: used + 1 }, admission: { ok: true } };
}

/** Requests a bucket has counted on the UTC day of `now` (a bucket of a later day counts as today). */
export function usedOn(b: Bucket | null, now: number): number {
  return b && b.day >= Math.floor(now / DAY_MS) ? b.used : 0;
}

/**
 * Plan counters in this process, on an injected clock. Several gateway processes each enforce the
 * plan on their own: use `createPostgresUsage` to share one count.
 * @example
 * const meter = new UsageMeter(DEFAULT_PLANS);
 * const admission = await meter.admit('key_1', 'free');
 */
export class UsageMeter implements UsageCounter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #plans: Readonly<Record<string, Plan>>;
  readonly #now: () => number;

  constructor(plans: Readonly<Record<string, Plan>>, now: () => number = Date.now) {
    checkPlans(plans);
    this.#plans = plans;
    this.#now = now;
  }

  plan(name: string): Plan {
    return planOf(this.#plans, name);
  }

  async admit(keyId: string, planName: string): Promise<Admission> {
    const plan = this.plan(planName);
    const now = this.#now();
    // Read and write happen in one synchronous step: no other charge interleaves in this process.
    const { bucket, admission } = meterRequest(this.#buckets.get(keyId) ?? newBucket(plan, now), plan, now);
    this.#buckets.set(keyId, bucket);
    return admission;
  }

  async usedToday(keyId: string): Promise<number> {
    return usedOn(this.#buckets.get(keyId) ?? null, this.#now());
  }

  async close(): Promise<void> {}
}

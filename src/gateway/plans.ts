/**
 * Usage plans: per-key request rate (a token bucket: `rate` tokens a second, holding at most
 * `burst`), a daily quota, and a cap on open WebSocket connections. Counters live in this process;
 * several gateway processes each enforce the plan (a shared UsageStore can replace {@link UsageMeter}).
 */
import { ConfigError } from '../core/errors.ts';

export interface Plan {
  /** Sustained requests per second. */
  rate: number;
  /** Requests admitted at once on top of an empty history (the bucket's size). */
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

interface Bucket {
  tokens: number;
  at: number;
  day: number;
  used: number;
}

const DAY_MS = 86_400_000;

/** Token buckets and daily counters per key, on an injected clock. */
export class UsageMeter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #plans: Readonly<Record<string, Plan>>;
  readonly #now: () => number;

  constructor(plans: Readonly<Record<string, Plan>>, now: () => number = Date.now) {
    for (const [name, p] of Object.entries(plans)) {
      if (!(p.rate > 0)) throw new ConfigError(`plans.${name}.rate`, 'must be a positive number');
      if (!(p.burst >= 1)) throw new ConfigError(`plans.${name}.burst`, 'must be at least 1');
      if (!(p.maxConnections >= 1))
        throw new ConfigError(`plans.${name}.maxConnections`, 'must be at least 1');
    }
    this.#plans = plans;
    this.#now = now;
  }

  /** The plan named, or the default plan for a name no longer configured. */
  plan(name: string): Plan {
    return this.#plans[name] ?? this.#plans.default ?? DEFAULT_PLANS.default!;
  }

  /** Charge one request to `keyId` under `planName`. */
  admit(keyId: string, planName: string): Admission {
    const plan = this.plan(planName);
    const now = this.#now();
    const day = Math.floor(now / DAY_MS);
    let b = this.#buckets.get(keyId);
    if (!b) {
      b = { tokens: plan.burst, at: now, day, used: 0 };
      this.#buckets.set(keyId, b);
    }
    if (b.day !== day) {
      b.day = day;
      b.used = 0;
    }
    if (plan.dailyQuota !== null && b.used >= plan.dailyQuota) {
      return {
        ok: false,
        reason: 'quota_exceeded',
        retryAfterS: Math.max(1, Math.ceil(((day + 1) * DAY_MS - now) / 1000)),
      };
    }
    b.tokens = Math.min(plan.burst, b.tokens + ((now - b.at) / 1000) * plan.rate);
    b.at = now;
    if (b.tokens < 1) {
      return {
        ok: false,
        reason: 'rate_limited',
        retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / plan.rate)),
      };
    }
    b.tokens -= 1;
    b.used += 1;
    return { ok: true };
  }

  /** Requests charged today (for `keys list` and admin views). */
  usedToday(keyId: string): number {
    const b = this.#buckets.get(keyId);
    return b && b.day === Math.floor(this.#now() / DAY_MS) ? b.used : 0;
  }
}

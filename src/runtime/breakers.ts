/**
 * Circuit breakers per tool: a tool that fails `threshold` times in a row trips its breaker; for
 * `cooldownMs` its calls fail fast (journaled as retryable `tool.failed` with code `circuit_open`,
 * no effect attempted); then one probe is let through (half-open): success closes the breaker,
 * failure opens it again. State lives in the worker process; every change is journaled in the run
 * that caused it (`breaker.changed`), so health and traces see it.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
}

interface Breaker {
  state: BreakerState;
  failures: number;
  openUntil: number;
  probing: boolean;
}

export interface BreakerChange {
  state: BreakerState;
  failures: number;
  until?: number;
}

export class CircuitBreakers {
  readonly opts: BreakerOptions;
  readonly #b = new Map<string, Breaker>();

  constructor(opts: BreakerOptions) {
    this.opts = opts;
  }

  #get(key: string): Breaker {
    let b = this.#b.get(key);
    if (!b) {
      b = { state: 'closed', failures: 0, openUntil: 0, probing: false };
      this.#b.set(key, b);
    }
    return b;
  }

  /**
   * May a call go ahead now? `{ allowed: false, until }` while open; the first call after the
   * cooldown is the half-open probe (`change` reports the transition).
   */
  admit(
    key: string,
    now: number,
  ): { allowed: true; change?: BreakerChange } | { allowed: false; until: number } {
    const b = this.#get(key);
    if (b.state === 'closed') return { allowed: true };
    if (b.state === 'open' && now < b.openUntil) return { allowed: false, until: b.openUntil };
    if (b.state === 'half-open' && b.probing) return { allowed: false, until: now + this.opts.cooldownMs };
    b.state = 'half-open';
    b.probing = true;
    return { allowed: true, change: { state: 'half-open', failures: b.failures } };
  }

  /** Record an outcome; returns the state change, if any. */
  record(key: string, ok: boolean, now: number): BreakerChange | undefined {
    const b = this.#get(key);
    b.probing = false;
    if (ok) {
      const was = b.state;
      b.state = 'closed';
      b.failures = 0;
      return was === 'closed' ? undefined : { state: 'closed', failures: 0 };
    }
    b.failures += 1;
    if (b.state === 'half-open' || b.failures >= this.opts.threshold) {
      b.state = 'open';
      b.openUntil = now + this.opts.cooldownMs;
      return { state: 'open', failures: b.failures, until: b.openUntil };
    }
    return undefined;
  }

  /** Open breakers (for health views). */
  open(now: number): { key: string; until: number }[] {
    return [...this.#b]
      .filter(([, b]) => b.state !== 'closed' && (b.state === 'half-open' || now < b.openUntil))
      .map(([key, b]) => ({ key, until: b.openUntil }));
  }
}

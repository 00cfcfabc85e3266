/**
 * Failed authentication, throttled per client address: after `maxFailures` failures within
 * `windowMs`, every authentication from that address is refused with 429 until the window ends —
 * valid keys included, so a guesser learns nothing while blocked. The table is bounded.
 */
import { HttpError } from './errors.ts';

export interface ThrottleOptions {
  /** Failed authentications one address may make within `windowMs` (default 20). */
  maxFailures?: number;
  /** The window, ms (default 60 s). */
  windowMs?: number;
  /** Addresses tracked at once (default 10,000); the oldest window is dropped beyond it. */
  maxAddresses?: number;
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

export const DEFAULT_THROTTLE = { maxFailures: 20, windowMs: 60_000 } as const;

/** Counts failed authentications by address in fixed windows. */
export class AuthThrottle {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  readonly #byAddress = new Map<string, Window>();

  constructor(options: ThrottleOptions = {}) {
    this.#max = options.maxFailures ?? DEFAULT_THROTTLE.maxFailures;
    this.#windowMs = options.windowMs ?? DEFAULT_THROTTLE.windowMs;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  #current(address: string, now: number): Window | undefined {
    const w = this.#byAddress.get(address);
    if (w && now - w.start >= this.#windowMs) {
      this.#byAddress.delete(address);
      return undefined;
    }
    return w;
  }

  /** 429 with Retry-After while `address` has used up its failures. */
  check(address: string | undefined): void {
    if (address === undefined) return;
    const now = this.#now();
    const w = this.#current(address, now);
    if (!w || w.failures < this.#max) return;
    const retryAfter = Math.max(1, Math.ceil((w.start + this.#windowMs - now) / 1000));
    throw new HttpError(429, 'too_many_failures', 'too many failed authentications from this address', {
      headers: { 'Retry-After': String(retryAfter) },
      details: { retryAfter },
    });
  }

  /** Count one failed authentication from `address`. */
  fail(address: string | undefined): void {
    if (address === undefined) return;
    const now = this.#now();
    const w = this.#current(address, now);
    if (w) {
      w.failures++;
      return;
    }
    if (this.#byAddress.size >= this.#maxAddresses) {
      // Map order is insertion order: the first entry is the oldest window.
      const oldest = this.#byAddress.keys().next();
      if (!oldest.done) this.#byAddress.delete(oldest.value);
    }
    this.#byAddress.set(address, { start: now, failures: 1 });
  }

  get size(): number {
    return this.#byAddress.size;
  }
}

/**
 * How many of a batch's runs may be in flight: additive increase, multiplicative decrease (AIMD,
 * as TCP paces a connection). Every run that ends well adds 1/limit (about one more slot per
 * round of runs); a failed run or a rate limit the model layer reported (429, `retry-after`)
 * halves the limit — at most once per `cooldownMs`, since the runs already in flight were sent
 * under the old limit — and a `retry-after` also holds back new submissions until it has passed.
 * So a batch slows down under pressure instead of failing its records, and speeds up again.
 * Pure: the clock is passed in.
 */
export interface Pace {
  /** Runs that may be in flight now (at least 1). */
  readonly limit: number;
  /** No new submission before this time (a provider's retry-after). */
  readonly holdUntil: number;
  ok(): void;
  /** A failure or a rate limit at `now`; `retryAfterMs` when the provider said how long to wait. */
  slowDown(now: number, retryAfterMs?: number): void;
}

export function createPace(max: number, cooldownMs = 1_000): Pace {
  let limit = max;
  let holdUntil = 0;
  let lastDecrease = -Infinity;
  return {
    get limit() {
      return Math.max(1, Math.floor(limit));
    },
    get holdUntil() {
      return holdUntil;
    },
    ok() {
      limit = Math.min(max, limit + 1 / Math.max(1, limit));
    },
    slowDown(now, retryAfterMs) {
      if (retryAfterMs !== undefined) holdUntil = Math.max(holdUntil, now + retryAfterMs);
      if (now - lastDecrease < cooldownMs) return;
      lastDecrease = now;
      limit = Math.max(1, limit / 2);
    },
  };
}

/**
 * The one backoff formula: exponential growth from a first delay, capped, with part of each delay
 * jittered. Used by tool-call retries, model-call retries, the PostgreSQL reconnects and the MCP
 * reconnects; `random` in [0,1) is passed in to keep core pure.
 */

/** How delays grow: `initialDelayMs` for the first retry, times `factor` per retry, up to `maxDelayMs`. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /** The part of each delay that is random (default 0.5: half fixed, half jittered). */
  jitter?: number;
}

/**
 * The delay before retry `attempt` (1 for the first retry; 0 counts as 1), in whole ms. With the
 * default half jitter a delay is never zero, yet retries of many runs stay de-synchronised.
 */
export function backoff(attempt: number, policy: BackoffPolicy, random: number): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * (policy.factor ?? 2) ** Math.max(0, attempt - 1),
  );
  const jitter = policy.jitter ?? 0.5;
  return Math.round(ceiling * (1 - jitter) + ceiling * jitter * random);
}

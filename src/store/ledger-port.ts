/**
 * The policy ledger: what policies over history count (refunds per order in 24 h, exports per
 * actor…). One atomic operation, check-and-reserve, so that concurrent runs can never each see
 * room under a limit and together exceed it. Implementations: store/memory/ledger.ts,
 * store/sqlite/ledger.ts (one IMMEDIATE transaction), store/postgres/ledger.ts (an advisory
 * transaction lock per key).
 */

export interface LedgerReservation {
  /** Idempotent: reserving the same id again admits without counting twice (a re-tried admission). */
  id: string;
  /** The rule and a digest of the grouping values (runtime/history.ts): the ledger holds nothing personal. */
  key: string;
  /** What this call adds: the summed argument, or 1 for a count. */
  amount: number;
  /** Admit only when the window's total plus `amount` stays at or under this; `null` records unconditionally (an approved call). */
  limit: number | null;
  /** Entries at or after this time are in the window. */
  since: number;
  now: number;
  runId: string;
  callId: string;
}

export interface LedgerVerdict {
  /** True when the entry is (now, or already) recorded. */
  admitted: boolean;
  /** The window's total including this call's amount. */
  total: number;
}

export interface PolicyLedger {
  reserve(r: LedgerReservation): Promise<LedgerVerdict>;
  /** Drop every entry of a call: it did not go ahead, or failed for good. */
  release(runId: string, callId: string): Promise<void>;
}

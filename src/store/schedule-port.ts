/**
 * Durable schedule state: per schedule its paused override and the last slot evaluated, and a
 * record per slot (fired with its run, or skipped with the reason). Claiming a slot is an insert
 * that does nothing when the (schedule, key) row exists: exactly one process wins it, whatever
 * else runs. Implementations: store/memory/schedules.ts, store/sqlite/schedules.ts,
 * store/postgres/schedules.ts; one contract suite (test/contract/schedules.test.ts).
 */

/**
 * `pending`: claimed, its run being submitted (a crash leaves it so; any process re-drives it with
 * the same idempotency key). `buffered`: waiting behind an active run (`overlap: 'buffer-one'`).
 */
export type SlotStatus = 'pending' | 'buffered' | 'fired' | 'skipped';
export type SlotKind = 'scheduled' | 'backfill' | 'trigger';

export interface SlotRecord {
  schedule: string;
  /** The slot's ISO time (scheduled and backfilled slots share it), or `trigger:<id>`. */
  key: string;
  /** The slot's time (a trigger's: when it was asked for), ms. */
  slot: number;
  kind: SlotKind;
  status: SlotStatus;
  runId: string | null;
  /** Why a slot was skipped (`missed`, `overlap`, …); null otherwise. */
  reason: string | null;
  /** When the record last changed, by the store's clock. */
  at: number;
}

export interface ScheduleState {
  schedule: string;
  /** Set by `schedules pause|resume`: overrides the configuration's `paused`; null when never set. */
  paused: boolean | null;
  /** Every slot at or before this time has been evaluated (null: never evaluated). */
  lastSlot: number | null;
  updatedAt: number;
}

export interface SlotQuery {
  statuses?: readonly SlotStatus[];
  /** Slots at or after / at or before these times. */
  from?: number;
  to?: number;
  /** Newest slot first; default 50. */
  limit?: number;
}

export interface ScheduleStore {
  state(schedule: string): Promise<ScheduleState | null>;
  states(): Promise<ScheduleState[]>;
  /** Move the cursor forward to `lastSlot` (never back: a slower process cannot rewind it). */
  advance(schedule: string, lastSlot: number, now: number): Promise<void>;
  /** Set the paused override; resuming also moves the cursor to `now` (slots while paused never fire). */
  setPaused(schedule: string, paused: boolean, now: number): Promise<void>;
  /**
   * Insert the record unless one with its (schedule, key) exists. True when this call inserted it:
   * winning the insert proves this caller owns the slot.
   */
  claim(record: SlotRecord): Promise<boolean>;
  /**
   * Move a record from status `from` to `to` (with its run or reason); false when it was not in
   * `from` any more (another process moved it first).
   */
  settle(
    schedule: string,
    key: string,
    from: SlotStatus,
    to: { status: SlotStatus; runId?: string | null; reason?: string | null; at: number },
  ): Promise<boolean>;
  get(schedule: string, key: string): Promise<SlotRecord | null>;
  list(schedule: string, query?: SlotQuery): Promise<SlotRecord[]>;
}

/**
 * Schedule state on PostgreSQL, in the store's schema (tables of migration 8). A claim is
 * `INSERT … ON CONFLICT DO NOTHING` on the (schedule, key) primary key: of any number of processes
 * claiming one slot, exactly one inserts the row; the others see zero rows affected. Schedule
 * names and keys are validated identifiers and ISO times (no NUL), so text is stored as is.
 */
import type pg from 'pg';
import type { ScheduleState, ScheduleStore, SlotRecord, SlotStatus } from '../schedule-port.ts';

interface StateRow {
  schedule: string;
  paused: boolean | null;
  last_slot: number | null;
  updated_at: number;
}
interface SlotRow {
  schedule: string;
  key: string;
  slot: number;
  kind: string;
  status: string;
  run_id: string | null;
  reason: string | null;
  at: number;
}

const stateOf = (r: StateRow): ScheduleState => ({
  schedule: r.schedule,
  paused: r.paused,
  lastSlot: r.last_slot === null ? null : Number(r.last_slot),
  updatedAt: Number(r.updated_at),
});

const slotOf = (r: SlotRow): SlotRecord => ({
  schedule: r.schedule,
  key: r.key,
  slot: Number(r.slot),
  kind: r.kind as SlotRecord['kind'],
  status: r.status as SlotStatus,
  runId: r.run_id,
  reason: r.reason,
  at: Number(r.at),
});

/** `pool`: the store's pool; `s`: its schema, already quoted; `ready`: the store's migrations. */
export function createPostgresSchedules(pool: pg.Pool, s: string, ready: () => Promise<void>): ScheduleStore {
  const q = async <R extends pg.QueryResultRow>(sql: string, args: unknown[]): Promise<pg.QueryResult<R>> => {
    await ready();
    return pool.query<R>(sql, args);
  };
  return {
    async state(schedule) {
      const { rows } = await q<StateRow>(`SELECT * FROM ${s}.schedule_state WHERE schedule = $1`, [schedule]);
      return rows[0] ? stateOf(rows[0]) : null;
    },
    async states() {
      const { rows } = await q<StateRow>(`SELECT * FROM ${s}.schedule_state ORDER BY schedule`, []);
      return rows.map(stateOf);
    },
    async advance(schedule, lastSlot, now) {
      // GREATEST: a process with an older view never moves the cursor back.
      await q(
        `INSERT INTO ${s}.schedule_state (schedule, paused, last_slot, updated_at) VALUES ($1, NULL, $2, $3)
         ON CONFLICT (schedule) DO UPDATE SET updated_at = EXCLUDED.updated_at,
           last_slot = GREATEST(coalesce(${s}.schedule_state.last_slot, EXCLUDED.last_slot), EXCLUDED.last_slot)`,
        [schedule, lastSlot, now],
      );
    },
    async setPaused(schedule, paused, now) {
      await q(
        `INSERT INTO ${s}.schedule_state (schedule, paused, last_slot, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (schedule) DO UPDATE SET paused = EXCLUDED.paused, updated_at = EXCLUDED.updated_at,
           last_slot = CASE WHEN EXCLUDED.last_slot IS NULL THEN ${s}.schedule_state.last_slot
             ELSE GREATEST(coalesce(${s}.schedule_state.last_slot, EXCLUDED.last_slot), EXCLUDED.last_slot) END`,
        [schedule, paused, paused ? null : now, now],
      );
    },
    async claim(r) {
      const { rowCount } = await q(
        `INSERT INTO ${s}.schedule_slots (schedule, key, slot, kind, status, run_id, reason, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (schedule, key) DO NOTHING`,
        [r.schedule, r.key, r.slot, r.kind, r.status, r.runId, r.reason, r.at],
      );
      return rowCount === 1;
    },
    async settle(schedule, key, from, to) {
      const args: unknown[] = [];
      const $ = (v: unknown): string => `$${args.push(v)}`;
      const sets = [`status = ${$(to.status)}`, `at = ${$(to.at)}`];
      if (to.runId !== undefined) sets.push(`run_id = ${$(to.runId)}`);
      if (to.reason !== undefined) sets.push(`reason = ${$(to.reason)}`);
      args.push(schedule, key, from);
      const n = args.length;
      const { rowCount } = await q(
        `UPDATE ${s}.schedule_slots SET ${sets.join(', ')} WHERE schedule = $${n - 2} AND key = $${n - 1} AND status = $${n}`,
        args,
      );
      return rowCount === 1;
    },
    async get(schedule, key) {
      const { rows } = await q<SlotRow>(
        `SELECT * FROM ${s}.schedule_slots WHERE schedule = $1 AND key = $2`,
        [schedule, key],
      );
      return rows[0] ? slotOf(rows[0]) : null;
    },
    async list(schedule, query = {}) {
      const args: unknown[] = [];
      const $ = (v: unknown): string => `$${args.push(v)}`;
      const where = [`schedule = ${$(schedule)}`];
      if (query.statuses) where.push(`status = ANY(${$([...query.statuses])})`);
      if (query.from !== undefined) where.push(`slot >= ${$(query.from)}`);
      if (query.to !== undefined) where.push(`slot <= ${$(query.to)}`);
      args.push(query.limit ?? 50);
      const { rows } = await q<SlotRow>(
        `SELECT * FROM ${s}.schedule_slots WHERE ${where.join(' AND ')} ORDER BY slot DESC, key DESC LIMIT $${args.length}`,
        args,
      );
      return rows.map(slotOf);
    },
  };
}

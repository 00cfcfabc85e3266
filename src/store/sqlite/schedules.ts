/**
 * Schedule state on SQLite, in the store's own database file and connection (tables of migration
 * 7). Each operation is one statement: a claim is `INSERT … ON CONFLICT DO NOTHING`, so of two
 * processes claiming one slot exactly one sees a changed row; the file's write lock orders them.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { ScheduleState, ScheduleStore, SlotRecord, SlotStatus } from '../schedule-port.ts';

type Row = Record<string, SQLInputValue>;

const str = (v: SQLInputValue | undefined): string => (typeof v === 'string' ? v : `${Number(v)}`);

const stateOf = (r: Row): ScheduleState => ({
  schedule: str(r.schedule),
  paused: r.paused === null ? null : Number(r.paused) === 1,
  lastSlot: r.last_slot === null ? null : Number(r.last_slot),
  updatedAt: Number(r.updated_at),
});

const slotOf = (r: Row): SlotRecord => ({
  schedule: str(r.schedule),
  key: str(r.key),
  slot: Number(r.slot),
  kind: str(r.kind) as SlotRecord['kind'],
  status: str(r.status) as SlotStatus,
  runId: r.run_id === null ? null : str(r.run_id),
  reason: r.reason === null ? null : str(r.reason),
  at: Number(r.at),
});

export function createSqliteSchedules(db: DatabaseSync): ScheduleStore {
  const getState = db.prepare('SELECT * FROM schedule_state WHERE schedule = ?');
  const allStates = db.prepare('SELECT * FROM schedule_state ORDER BY schedule');
  const advance = db.prepare(
    `INSERT INTO schedule_state (schedule, paused, last_slot, updated_at) VALUES (?, NULL, ?, ?)
     ON CONFLICT (schedule) DO UPDATE SET last_slot = max(coalesce(last_slot, excluded.last_slot), excluded.last_slot),
       updated_at = excluded.updated_at`,
  );
  const pause = db.prepare(
    `INSERT INTO schedule_state (schedule, paused, last_slot, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (schedule) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at,
       last_slot = CASE WHEN excluded.last_slot IS NULL THEN last_slot
                        ELSE max(coalesce(last_slot, excluded.last_slot), excluded.last_slot) END`,
  );
  const claim = db.prepare(
    `INSERT INTO schedule_slots (schedule, key, slot, kind, status, run_id, reason, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (schedule, key) DO NOTHING`,
  );
  const get = db.prepare('SELECT * FROM schedule_slots WHERE schedule = ? AND key = ?');
  return {
    state: async (schedule) => {
      const r = getState.get(schedule) as Row | undefined;
      return r ? stateOf(r) : null;
    },
    states: async () => (allStates.all() as Row[]).map(stateOf),
    advance: async (schedule, lastSlot, now) => {
      advance.run(schedule, lastSlot, now);
    },
    setPaused: async (schedule, paused, now) => {
      pause.run(schedule, paused ? 1 : 0, paused ? null : now, now);
    },
    claim: async (r) =>
      Number(claim.run(r.schedule, r.key, r.slot, r.kind, r.status, r.runId, r.reason, r.at).changes) === 1,
    settle: async (schedule, key, from, to) => {
      const sets = ['status = ?', 'at = ?'];
      const args: SQLInputValue[] = [to.status, to.at];
      if (to.runId !== undefined) {
        sets.push('run_id = ?');
        args.push(to.runId);
      }
      if (to.reason !== undefined) {
        sets.push('reason = ?');
        args.push(to.reason);
      }
      const changed = db
        .prepare(`UPDATE schedule_slots SET ${sets.join(', ')} WHERE schedule = ? AND key = ? AND status = ?`)
        .run(...args, schedule, key, from).changes;
      return Number(changed) === 1;
    },
    get: async (schedule, key) => {
      const r = get.get(schedule, key) as Row | undefined;
      return r ? slotOf(r) : null;
    },
    list: async (schedule, q = {}) => {
      const where = ['schedule = ?'];
      const args: SQLInputValue[] = [schedule];
      if (q.statuses) {
        where.push(`status IN (${q.statuses.map(() => '?').join(', ')})`);
        args.push(...q.statuses);
      }
      if (q.from !== undefined) {
        where.push('slot >= ?');
        args.push(q.from);
      }
      if (q.to !== undefined) {
        where.push('slot <= ?');
        args.push(q.to);
      }
      const rows = db
        .prepare(
          `SELECT * FROM schedule_slots WHERE ${where.join(' AND ')} ORDER BY slot DESC, key DESC LIMIT ?`,
        )
        .all(...args, q.limit ?? 50) as Row[];
      return rows.map(slotOf);
    },
  };
}

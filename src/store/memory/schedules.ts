/** Schedule state in process memory (the memory store's: tests and single-process demos). */
import type { ScheduleState, ScheduleStore, SlotRecord } from '../schedule-port.ts';

export function createMemorySchedules(): ScheduleStore {
  const states = new Map<string, ScheduleState>();
  const slots = new Map<string, SlotRecord>();
  const id = (schedule: string, key: string): string => `${schedule}\u0000${key}`;
  const stateOf = (schedule: string, now: number): ScheduleState => {
    const s = states.get(schedule) ?? { schedule, paused: null, lastSlot: null, updatedAt: now };
    states.set(schedule, s);
    return s;
  };
  return {
    state: async (schedule) => {
      const s = states.get(schedule);
      return s ? { ...s } : null;
    },
    states: async () =>
      [...states.values()].sort((a, b) => (a.schedule < b.schedule ? -1 : 1)).map((s) => ({ ...s })),
    advance: async (schedule, lastSlot, now) => {
      const s = stateOf(schedule, now);
      if (s.lastSlot === null || lastSlot > s.lastSlot) s.lastSlot = lastSlot;
      s.updatedAt = now;
    },
    setPaused: async (schedule, paused, now) => {
      const s = stateOf(schedule, now);
      s.paused = paused;
      if (!paused && (s.lastSlot === null || now > s.lastSlot)) s.lastSlot = now;
      s.updatedAt = now;
    },
    // Synchronous inside: no await between the check and the insert, so no two callers both win.
    claim: async (record) => {
      const k = id(record.schedule, record.key);
      if (slots.has(k)) return false;
      slots.set(k, { ...record });
      return true;
    },
    settle: async (schedule, key, from, to) => {
      const r = slots.get(id(schedule, key));
      if (!r || r.status !== from) return false;
      r.status = to.status;
      if (to.runId !== undefined) r.runId = to.runId;
      if (to.reason !== undefined) r.reason = to.reason;
      r.at = to.at;
      return true;
    },
    get: async (schedule, key) => {
      const r = slots.get(id(schedule, key));
      return r ? { ...r } : null;
    },
    list: async (schedule, q = {}) =>
      [...slots.values()]
        .filter(
          (r) =>
            r.schedule === schedule &&
            (!q.statuses || q.statuses.includes(r.status)) &&
            (q.from === undefined || r.slot >= q.from) &&
            (q.to === undefined || r.slot <= q.to),
        )
        .sort((a, b) => b.slot - a.slot || (a.key < b.key ? 1 : -1))
        .slice(0, q.limit ?? 50)
        .map((r) => ({ ...r })),
  };
}

/** The batch store in process memory (the memory store's; tests and single-process demos). */
import type { BatchRecordRow, BatchRecordStatus, BatchRow, BatchStore } from '../batch-port.ts';
import { storedText } from '../text.ts';

const copy = <T>(v: T): T => structuredClone(v);

export function createMemoryBatches(): BatchStore {
  const batches = new Map<string, BatchRow>();
  const records = new Map<string, BatchRecordRow[]>();
  return {
    // Synchronous inside: no await between the check and the insert, so nothing interleaves.
    create: async (batch, rows) => {
      const existing = batches.get(batch.batchId);
      if (existing) return { created: false, batch: copy(existing) };
      const stored = { ...copy(batch), owner: storedText(batch.owner) };
      batches.set(batch.batchId, stored);
      records.set(
        batch.batchId,
        rows.map((r) => ({ ...copy(r), customId: storedText(r.customId) })),
      );
      return { created: true, batch: copy(stored) };
    },
    get: async (batchId) => {
      const b = batches.get(batchId);
      return b ? copy(b) : null;
    },
    list: async ({ owner, limit = 50 }) => {
      const who = owner === undefined ? undefined : storedText(owner);
      return [...batches.values()]
        .filter((b) => who === undefined || b.owner === who)
        .sort((a, b) => b.createdAt - a.createdAt || (a.batchId < b.batchId ? 1 : -1))
        .slice(0, limit)
        .map(copy);
    },
    records: async (batchId, { from = 0, limit = Infinity } = {}) =>
      (records.get(batchId) ?? [])
        .filter((r) => r.index >= from)
        .slice(0, limit)
        .map(copy),
    counts: async (batchId) => {
      const out: Partial<Record<BatchRecordStatus, number>> = {};
      for (const r of records.get(batchId) ?? []) out[r.status] = (out[r.status] ?? 0) + 1;
      return out;
    },
    setRecord: async (batchId, index, to, from) => {
      const list = records.get(batchId) ?? [];
      const r = list[index]?.index === index ? list[index] : list.find((x) => x.index === index);
      if (!r || !from.includes(r.status)) return false;
      r.status = to.status;
      if (to.runId !== undefined) r.runId = to.runId;
      if (to.error !== undefined) r.error = copy(to.error);
      return true;
    },
    setStatus: async (batchId, status, now, from) => {
      const b = batches.get(batchId);
      if (!b || !from.includes(b.status)) return false;
      b.status = status;
      b.updatedAt = now;
      return true;
    },
  };
}

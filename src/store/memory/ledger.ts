/** The policy ledger in process memory (the memory store's; tests and single-process demos). */
import type { LedgerReservation, LedgerVerdict, PolicyLedger } from '../ledger-port.ts';

interface Entry {
  key: string;
  amount: number;
  at: number;
  runId: string;
  callId: string;
}

export function createMemoryLedger(): PolicyLedger {
  const entries = new Map<string, Entry>();
  const totalOf = (key: string, since: number): number => {
    let total = 0;
    for (const e of entries.values()) if (e.key === key && e.at >= since) total += e.amount;
    return total;
  };
  return {
    // Synchronous inside: no await between the check and the insert, so nothing interleaves.
    reserve: async (r: LedgerReservation): Promise<LedgerVerdict> => {
      const total = totalOf(r.key, r.since);
      if (entries.has(r.id)) return { admitted: true, total };
      if (r.limit !== null && total + r.amount > r.limit) return { admitted: false, total: total + r.amount };
      entries.set(r.id, { key: r.key, amount: r.amount, at: r.now, runId: r.runId, callId: r.callId });
      return { admitted: true, total: total + r.amount };
    },
    release: async (runId, callId) => {
      for (const [id, e] of entries) if (e.runId === runId && e.callId === callId) entries.delete(id);
    },
  };
}

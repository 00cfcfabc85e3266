/**
 * The policy ledger on SQLite, in the store's own database file and connection. Check and insert
 * run in one `BEGIN IMMEDIATE` transaction: it takes the file's write lock first, so another
 * process's reservation waits (busy timeout) and then sees this one. The store's group commit is
 * synchronous too, so the two never interleave on the shared connection.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { LedgerReservation, LedgerVerdict, PolicyLedger } from '../ledger-port.ts';

export function createSqliteLedger(db: DatabaseSync): PolicyLedger {
  const sum = db.prepare(
    'SELECT coalesce(sum(amount), 0) AS total FROM policy_ledger WHERE key = ? AND at >= ?',
  );
  const exists = db.prepare('SELECT 1 AS x FROM policy_ledger WHERE id = ?');
  const insert = db.prepare(
    'INSERT INTO policy_ledger (id, key, amount, at, run_id, call_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const prune = db.prepare('DELETE FROM policy_ledger WHERE key = ? AND at < ?');
  const release = db.prepare('DELETE FROM policy_ledger WHERE run_id = ? AND call_id = ?');
  return {
    reserve: async (r: LedgerReservation): Promise<LedgerVerdict> => {
      db.exec('BEGIN IMMEDIATE');
      try {
        prune.run(r.key, r.since);
        const total = Number((sum.get(r.key, r.since) as { total: number }).total);
        let verdict: LedgerVerdict;
        if (exists.get(r.id)) verdict = { admitted: true, total };
        else if (r.limit !== null && total + r.amount > r.limit)
          verdict = { admitted: false, total: total + r.amount };
        else {
          insert.run(r.id, r.key, r.amount, r.now, r.runId, r.callId);
          verdict = { admitted: true, total: total + r.amount };
        }
        db.exec('COMMIT');
        return verdict;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    release: async (runId, callId) => {
      release.run(runId, callId);
    },
  };
}

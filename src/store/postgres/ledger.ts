/**
 * The policy ledger on PostgreSQL, in the store's schema. A reservation is one transaction that
 * first takes a transaction-scoped advisory lock on its key: concurrent reservations of one key
 * (from any process) queue behind it and then see its row; other keys do not wait.
 */
import type pg from 'pg';
import type { LedgerReservation, LedgerVerdict, PolicyLedger } from '../ledger-port.ts';

/**
 * `pool`: the store's pool; `s`: its schema, already quoted; `ready`: the store's migrations
 * (the table is migration 6).
 */
export function createPostgresLedger(pool: pg.Pool, s: string, ready: () => Promise<void>): PolicyLedger {
  return {
    async reserve(r: LedgerReservation): Promise<LedgerVerdict> {
      await ready();
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        // Serializes reservations of this key across every connection and process.
        await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 17))`, [`${s}|${r.key}`]);
        await c.query(`DELETE FROM ${s}.policy_ledger WHERE key = $1 AND at < $2`, [r.key, r.since]);
        const { rows } = await c.query<{ total: number | string }>(
          `SELECT coalesce(sum(amount), 0) AS total FROM ${s}.policy_ledger WHERE key = $1 AND at >= $2`,
          [r.key, r.since],
        );
        const total = Number(rows[0]?.total ?? 0);
        const seen = await c.query(`SELECT 1 FROM ${s}.policy_ledger WHERE id = $1`, [r.id]);
        let verdict: LedgerVerdict;
        if (seen.rowCount) verdict = { admitted: true, total };
        else if (r.limit !== null && total + r.amount > r.limit)
          verdict = { admitted: false, total: total + r.amount };
        else {
          await c.query(
            `INSERT INTO ${s}.policy_ledger (id, key, amount, at, run_id, call_id) VALUES ($1, $2, $3, $4, $5, $6)`,
            [r.id, r.key, r.amount, r.now, r.runId, r.callId],
          );
          verdict = { admitted: true, total: total + r.amount };
        }
        await c.query('COMMIT');
        return verdict;
      } catch (error) {
        await c.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        c.release();
      }
    },
    async release(runId, callId) {
      await ready();
      await pool.query(`DELETE FROM ${s}.policy_ledger WHERE run_id = $1 AND call_id = $2`, [runId, callId]);
    },
  };
}

/**
 * The batch store on SQLite, in the store's own database file and connection (migration 6).
 * Creating a batch is one `BEGIN IMMEDIATE` transaction: it takes the file's write lock first, so
 * a second process creating the same batch waits and then finds it. The store's group commit is
 * synchronous too, so the two never interleave on the shared connection.
 */
import type { DatabaseSync } from 'node:sqlite';
import {
  batchOfRow,
  recordOfRow,
  type BatchRecordRow,
  type BatchRecordStatus,
  type BatchRow,
  type BatchSqlRow,
  type BatchStore,
} from '../batch-port.ts';

type Row = BatchSqlRow;

const batchOf = (r: Row): BatchRow => batchOfRow(r);
const recordOf = (r: Row): BatchRecordRow => recordOfRow(r);

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

export function createSqliteBatches(db: DatabaseSync): BatchStore {
  const getBatch = db.prepare('SELECT * FROM batches WHERE batch_id = ?');
  const insertBatch = db.prepare(
    'INSERT INTO batches (batch_id, owner, agent, origin, input_digest, created_at, updated_at, status, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertRecord = db.prepare(
    'INSERT INTO batch_records (batch_id, idx, custom_id, request, error, run_id, status) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return {
    create: async (batch, records) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const existing = getBatch.get(batch.batchId) as Row | undefined;
        if (existing) {
          db.exec('COMMIT');
          return { created: false, batch: batchOf(existing) };
        }
        insertBatch.run(
          batch.batchId,
          batch.owner,
          batch.agent,
          batch.origin,
          batch.inputDigest,
          batch.createdAt,
          batch.updatedAt,
          batch.status,
          batch.total,
        );
        for (const r of records)
          insertRecord.run(
            r.batchId,
            r.index,
            r.customId,
            r.request === null ? null : JSON.stringify(r.request),
            r.error === null ? null : JSON.stringify(r.error),
            r.runId,
            r.status,
          );
        const stored = batchOf(getBatch.get(batch.batchId) as Row);
        db.exec('COMMIT');
        return { created: true, batch: stored };
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    get: async (batchId) => {
      const r = getBatch.get(batchId) as Row | undefined;
      return r ? batchOf(r) : null;
    },
    list: async ({ owner, limit = 50 }) => {
      const rows =
        owner === undefined
          ? db.prepare('SELECT * FROM batches ORDER BY created_at DESC, batch_id DESC LIMIT ?').all(limit)
          : db
              .prepare(
                'SELECT * FROM batches WHERE owner = ? ORDER BY created_at DESC, batch_id DESC LIMIT ?',
              )
              .all(owner, limit);
      return (rows as Row[]).map(batchOf);
    },
    records: async (batchId, { from = 0, limit = -1 } = {}) =>
      (
        db
          .prepare('SELECT * FROM batch_records WHERE batch_id = ? AND idx >= ? ORDER BY idx LIMIT ?')
          .all(batchId, from, limit) as Row[]
      ).map(recordOf),
    counts: async (batchId) => {
      const out: Partial<Record<BatchRecordStatus, number>> = {};
      const rows = db
        .prepare('SELECT status, count(*) AS n FROM batch_records WHERE batch_id = ? GROUP BY status')
        .all(batchId) as Row[];
      for (const r of rows) out[String(r.status) as BatchRecordStatus] = Number(r.n);
      return out;
    },
    setRecord: async (batchId, index, to, from) => {
      const r = db
        .prepare(
          `UPDATE batch_records SET status = ?, run_id = coalesce(?, run_id), error = coalesce(?, error)
           WHERE batch_id = ? AND idx = ? AND status IN (${marks(from.length)})`,
        )
        .run(
          to.status,
          to.runId ?? null,
          to.error === undefined ? null : JSON.stringify(to.error),
          batchId,
          index,
          ...from,
        );
      return Number(r.changes) > 0;
    },
    setStatus: async (batchId, status, now, from) => {
      const r = db
        .prepare(
          `UPDATE batches SET status = ?, updated_at = ? WHERE batch_id = ? AND status IN (${marks(from.length)})`,
        )
        .run(status, now, batchId, ...from);
      return Number(r.changes) > 0;
    },
  };
}

/**
 * The batch store on PostgreSQL, in the store's schema (migration 7). Creating a batch is one
 * transaction whose `INSERT … ON CONFLICT DO NOTHING` on the batch decides who creates it: a
 * concurrent creator of the same batch waits on the row lock and then finds it. Text a caller
 * wrote (owner, custom ids) goes through pgText like every user text column.
 */
import type pg from 'pg';
import {
  batchOfRow,
  recordOfRow,
  type BatchRecordRow,
  type BatchRecordStatus,
  type BatchRow,
  type BatchSqlRow,
  type BatchStore,
} from '../batch-port.ts';
import { fromPgText, impossibleId, pgText } from './text.ts';

type Row = BatchSqlRow;

const batchOf = (r: Row): BatchRow => batchOfRow(r, fromPgText);
const recordOf = (r: Row): BatchRecordRow => recordOfRow(r, fromPgText);

/** Records inserted per statement: one round trip per chunk, well under the parameter limit. */
const CHUNK = 1000;

/** `pool`: the store's pool; `s`: its schema, already quoted; `ready`: the store's migrations. */
export function createPostgresBatches(pool: pg.Pool, s: string, ready: () => Promise<void>): BatchStore {
  const query = async (sql: string, args: unknown[]): Promise<Row[]> => {
    await ready();
    return (await pool.query(sql, args)).rows as Row[];
  };
  return {
    async create(batch, records) {
      await ready();
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const inserted = await c.query(
          `INSERT INTO ${s}.batches (batch_id, owner, agent, origin, input_digest, created_at, updated_at, status, total)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (batch_id) DO NOTHING`,
          [
            batch.batchId,
            pgText(batch.owner),
            batch.agent,
            batch.origin,
            batch.inputDigest,
            batch.createdAt,
            batch.updatedAt,
            batch.status,
            batch.total,
          ],
        );
        if (inserted.rowCount) {
          for (let i = 0; i < records.length; i += CHUNK) {
            const part = records.slice(i, i + CHUNK);
            await c.query(
              `INSERT INTO ${s}.batch_records (batch_id, idx, custom_id, request, error, run_id, status)
               SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
              [
                batch.batchId,
                part.map((r) => r.index),
                part.map((r) => pgText(r.customId)),
                part.map((r) => (r.request === null ? null : JSON.stringify(r.request))),
                part.map((r) => (r.error === null ? null : JSON.stringify(r.error))),
                part.map((r) => r.runId),
                part.map((r) => r.status),
              ],
            );
          }
        }
        const { rows } = await c.query(`SELECT * FROM ${s}.batches WHERE batch_id = $1`, [batch.batchId]);
        await c.query('COMMIT');
        return { created: !!inserted.rowCount, batch: batchOf(rows[0] as Row) };
      } catch (error) {
        await c.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        c.release();
      }
    },
    async get(batchId) {
      if (impossibleId(batchId)) return null;
      const rows = await query(`SELECT * FROM ${s}.batches WHERE batch_id = $1`, [batchId]);
      return rows[0] ? batchOf(rows[0]) : null;
    },
    async list({ owner, limit = 50 }) {
      const rows =
        owner === undefined
          ? await query(`SELECT * FROM ${s}.batches ORDER BY created_at DESC, batch_id DESC LIMIT $1`, [
              limit,
            ])
          : await query(
              `SELECT * FROM ${s}.batches WHERE owner = $1 ORDER BY created_at DESC, batch_id DESC LIMIT $2`,
              [pgText(owner), limit],
            );
      return rows.map(batchOf);
    },
    async records(batchId, { from = 0, limit } = {}) {
      if (impossibleId(batchId)) return [];
      const rows = await query(
        `SELECT * FROM ${s}.batch_records WHERE batch_id = $1 AND idx >= $2 ORDER BY idx LIMIT $3`,
        [batchId, from, limit ?? null],
      );
      return rows.map(recordOf);
    },
    async counts(batchId) {
      const out: Partial<Record<BatchRecordStatus, number>> = {};
      if (impossibleId(batchId)) return out;
      const rows = await query(
        `SELECT status, count(*)::int AS n FROM ${s}.batch_records WHERE batch_id = $1 GROUP BY status`,
        [batchId],
      );
      for (const r of rows) out[String(r.status) as BatchRecordStatus] = Number(r.n);
      return out;
    },
    async setRecord(batchId, index, to, from) {
      await ready();
      const r = await pool.query(
        `UPDATE ${s}.batch_records SET status = $1, run_id = coalesce($2, run_id), error = coalesce($3, error)
         WHERE batch_id = $4 AND idx = $5 AND status = ANY($6::text[])`,
        [
          to.status,
          to.runId ?? null,
          to.error === undefined ? null : JSON.stringify(to.error),
          batchId,
          index,
          from,
        ],
      );
      return !!r.rowCount;
    },
    async setStatus(batchId, status, now, from) {
      await ready();
      const r = await pool.query(
        `UPDATE ${s}.batches SET status = $1, updated_at = $2 WHERE batch_id = $3 AND status = ANY($4::text[])`,
        [status, now, batchId, from],
      );
      return !!r.rowCount;
    },
  };
}

/** The audit side of the PostgreSQL journal: events as stored, run heads, and erasure's rewrite. */
import type pg from 'pg';
import { GENESIS_HASH, type AuditChain, type RunHead, type StoredEvent } from '../../core/audit.ts';
import type { Journal } from '../ports.ts';
import { putHead } from './writes.ts';

interface HeadRow {
  run_id: string;
  seq: number;
  hash: string;
  seal: string;
}
interface StoredRow {
  run_id: string;
  seq: number;
  at: number;
  v: number;
  type: string;
  data: string;
  prev_hash: string | null;
  hash: string | null;
}

const toHead = (r: HeadRow): RunHead => ({ runId: r.run_id, seq: r.seq, hash: r.hash, seal: r.seal });

export function pgAuditJournal(o: {
  query: <R extends object>(sql: string, params?: unknown[]) => Promise<R[]>;
  connect: () => Promise<pg.PoolClient>;
  s: string;
  chain: AuditChain;
}): Pick<Journal, 'readStored' | 'rewrite' | 'head' | 'heads'> {
  const { query, s, chain } = o;
  return {
    readStored: async (runId) =>
      (
        await query<StoredRow>(
          `SELECT run_id, seq, at, v, type, data, prev_hash, hash FROM ${s}.events WHERE run_id = $1 ORDER BY seq`,
          [runId],
        )
      ).map((r): StoredEvent => ({
        runId: r.run_id,
        seq: r.seq,
        at: r.at,
        v: r.v,
        type: r.type,
        dataText: r.data,
        prevHash: r.prev_hash ?? '',
        hash: r.hash ?? '',
      })),
    rewrite: async (runId, events) => {
      const client = await o.connect();
      try {
        await client.query('BEGIN');
        let prev = GENESIS_HASH;
        for (const e of events) {
          const text = JSON.stringify(e.data);
          const hash = chain.link(prev, runId, e.seq, e.at, e.v, e.type, text);
          await client.query(
            `UPDATE ${s}.events SET data = $1, prev_hash = $2, hash = $3 WHERE run_id = $4 AND seq = $5`,
            [text, prev, hash, runId, e.seq],
          );
          prev = hash;
        }
        // The head is re-based with the chain, in the same transaction.
        const last = events.at(-1);
        if (last) await putHead(client, s, chain, runId, last.seq, prev);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    head: async (runId) =>
      (
        await query<HeadRow>(`SELECT run_id, seq, hash, seal FROM ${s}.run_heads WHERE run_id = $1`, [runId])
      ).map(toHead)[0] ?? null,
    heads: async () =>
      (await query<HeadRow>(`SELECT run_id, seq, hash, seal FROM ${s}.run_heads ORDER BY run_id`)).map(
        toHead,
      ),
  };
}

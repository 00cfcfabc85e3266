/**
 * Statements of one commit on PostgreSQL, on the commit's own connection: journal appends with the
 * hash chain, session order, tasks, and the runs and approvals projections.
 */
import type pg from 'pg';
import type { AuditChain } from '../../core/audit.ts';
import { CLOSING_EVENTS, EVENT_SCHEMA_VERSION } from '../../core/events.ts';
import type { CommitTx, JournalTail } from '../commit.ts';
import type { ApprovalRow, RunRow, TaskSpec } from '../ports.ts';
import { isSeqRace } from './errors.ts';
import { pgOpt, pgText, SeqRace } from './text.ts';

type Int = number;

/**
 * PostgreSQL's commit primitives ({@link CommitTx}) for the one commit algorithm (../commit.ts),
 * on the commit's own connection inside its transaction.
 */
export function pgCommitTx(
  c: pg.PoolClient,
  s: string,
  schema: string,
  chain: AuditChain,
  now: number,
): CommitTx {
  const sessionHead = async (sessionKey: string): Promise<{ runId: string; queue: string } | undefined> => {
    const { rows } = await c.query<{ run_id: string; queue: string }>(
      `SELECT run_id, queue FROM ${s}.session_runs WHERE session_key = $1 ORDER BY pos LIMIT 1`,
      [pgText(sessionKey)],
    );
    return rows[0] && { runId: rows[0].run_id, queue: rows[0].queue };
  };
  return {
    now,
    chain,
    fence: async (runId) => {
      // Lock the task row: a concurrent claim (which moves the fence) is ordered before or after us.
      const { rows } = await c.query<{ fence: Int }>(
        `SELECT fence FROM ${s}.tasks WHERE run_id = $1 FOR UPDATE`,
        [runId],
      );
      return rows[0]?.fence;
    },
    lastSeq: async (runId) => {
      const { rows } = await c.query<{ s: Int }>(
        `SELECT coalesce(max(seq), 0)::int AS s FROM ${s}.events WHERE run_id = $1`,
        [runId],
      );
      return rows[0]?.s ?? 0;
    },
    tail: async (runId) => {
      const { rows } = await c.query<JournalTail>(
        `SELECT seq, hash, type FROM ${s}.events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1`,
        [runId],
      );
      return rows[0];
    },
    hasClosing: async (runId) => {
      const found = await c.query(
        `SELECT 1 FROM ${s}.events WHERE run_id = $1 AND type = ANY($2::text[]) LIMIT 1`,
        [runId, [...CLOSING_EVENTS]],
      );
      return (found.rowCount ?? 0) > 0;
    },
    claimDedup: async (key, runId, expiresAt, at) => {
      // One statement decides: a live key is never overwritten, an expired one is.
      const { rowCount } = await c.query(
        `INSERT INTO ${s}.dedup (key, run_id, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
         WHERE ${s}.dedup.expires_at <= $4`,
        [pgText(key), runId, expiresAt, at],
      );
      return rowCount === 1;
    },
    insertEvents: async (runId, expectedSeq, rows) => {
      try {
        // The primary key (run_id, seq) is the real arbiter: of two writers that read the same tail,
        // the second insert fails (after the first commits) and that writer lost the step.
        await c.query(
          `INSERT INTO ${s}.events (run_id, seq, at, v, type, data, prev_hash, hash)
           SELECT $1, x.seq, $2, $3, x.type, x.data, x.prev, x.hash
           FROM unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::text[]) AS x(seq, type, data, prev, hash)`,
          [
            runId,
            now,
            EVENT_SCHEMA_VERSION,
            rows.map((r) => r.seq),
            rows.map((r) => r.type),
            rows.map((r) => r.dataText),
            rows.map((r) => r.prevHash),
            rows.map((r) => r.hash),
          ],
        );
      } catch (error) {
        if (isSeqRace(error)) throw new SeqRace(runId, expectedSeq);
        throw error;
      }
    },
    putHead: (runId, seq, hash) => putHead(c, s, chain, runId, seq, hash),
    deleteTasks: async (runIds) => {
      await c.query(`DELETE FROM ${s}.tasks WHERE run_id = ANY($1::text[])`, [runIds]);
    },
    dropDedup: async (runIds) => {
      await c.query(`DELETE FROM ${s}.dedup WHERE run_id = ANY($1::text[])`, [runIds]);
    },
    upsertTask: (t) => upsertTask(c, s, t),
    project: (r) => project(c, s, r),
    approval: (a) => approval(c, s, a),
    lockSession: async (sessionKey) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 11))', [
        `${schema}:${pgText(sessionKey)}`,
      ]);
    },
    joinSession: async (sessionKey, runId, queue) => {
      await c.query(`INSERT INTO ${s}.session_runs (session_key, run_id, queue) VALUES ($1, $2, $3)`, [
        pgText(sessionKey),
        runId,
        queue,
      ]);
    },
    leaveSession: async (_sessionKey, runId) => {
      await c.query(`DELETE FROM ${s}.session_runs WHERE run_id = $1`, [runId]);
    },
    sessionHead,
  };
}

/** Write a run's head (last seq and hash) with its seal. */
export async function putHead(
  c: pg.PoolClient,
  s: string,
  chain: AuditChain,
  runId: string,
  seq: number,
  hash: string,
): Promise<void> {
  await c.query(
    `INSERT INTO ${s}.run_heads (run_id, seq, hash, seal) VALUES ($1, $2, $3, $4)
     ON CONFLICT (run_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, seal = excluded.seal`,
    [runId, seq, hash, chain.seal(runId, seq, hash)],
  );
}

async function approval(c: pg.PoolClient, s: string, a: ApprovalRow): Promise<void> {
  await c.query(
    `INSERT INTO ${s}.approvals (approval_id, run_id, call_id, tool, agent, args, args_digest, reasons,
       requested_by, requested_at, expires_at, status, approver, comment, decided_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (approval_id) DO UPDATE SET run_id = excluded.run_id, call_id = excluded.call_id,
       tool = excluded.tool, agent = excluded.agent, args = excluded.args, args_digest = excluded.args_digest,
       reasons = excluded.reasons, requested_by = excluded.requested_by, requested_at = excluded.requested_at,
       expires_at = excluded.expires_at, status = excluded.status, approver = excluded.approver,
       comment = excluded.comment, decided_at = excluded.decided_at`,
    [
      a.approvalId,
      a.runId,
      pgText(a.callId),
      a.tool,
      a.agent,
      JSON.stringify(a.args ?? null),
      a.argsDigest,
      JSON.stringify(a.reasons),
      pgText(a.requestedBy),
      a.requestedAt,
      a.expiresAt,
      a.status,
      pgOpt(a.approver),
      pgOpt(a.comment),
      a.decidedAt,
    ],
  );
}

async function upsertTask(c: pg.PoolClient, s: string, t: TaskSpec): Promise<void> {
  await c.query(
    `INSERT INTO ${s}.tasks (run_id, queue, ready_at) VALUES ($1, $2, $3)
     ON CONFLICT (run_id) DO UPDATE SET queue = excluded.queue, ready_at = excluded.ready_at,
       lease_owner = NULL, lease_expires = NULL`,
    [t.runId, t.queue, t.readyAt],
  );
}

async function project(c: pg.PoolClient, s: string, r: RunRow): Promise<void> {
  await c.query(
    `INSERT INTO ${s}.runs AS old (run_id, actor_id, session_id, agent, status, parent_run_id, created_at, updated_at, last_seq, summary, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (run_id) DO UPDATE SET agent = excluded.agent, status = excluded.status,
       updated_at = excluded.updated_at, last_seq = excluded.last_seq, summary = excluded.summary,
       version = excluded.version
     WHERE excluded.last_seq >= old.last_seq`,
    [
      r.runId,
      pgText(r.actorId),
      pgText(r.sessionId),
      r.agent,
      r.status,
      r.parentRunId,
      r.createdAt,
      r.updatedAt,
      r.lastSeq,
      pgOpt(r.summary),
      pgOpt(r.version ?? null),
    ],
  );
}

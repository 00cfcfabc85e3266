/**
 * Statements of one commit on PostgreSQL, on the commit's own connection: journal appends with the
 * hash chain, session order, tasks, and the runs and approvals projections.
 */
import type pg from 'pg';
import { GENESIS_HASH, type AuditChain } from '../../core/audit.ts';
import { seqTaken } from '../conflicts.ts';
import {
  AFTER_CLOSE_EVENTS,
  CLOSING_EVENTS,
  EVENT_SCHEMA_VERSION,
  type JournalEvent,
  type NewEvent,
} from '../../core/events.ts';
import { admitAppend, isClosedAfter } from '../closed.ts';
import type { ApprovalRow, RunRow, TaskSpec } from '../ports.ts';
import { isSeqRace } from './errors.ts';
import { pgOpt, pgText, SeqRace } from './text.ts';

type Int = number;

export async function sessionHead(
  c: pg.PoolClient,
  s: string,
  sessionKey: string,
): Promise<{ run_id: string; queue: string } | undefined> {
  const { rows } = await c.query<{ run_id: string; queue: string }>(
    `SELECT run_id, queue FROM ${s}.session_runs WHERE session_key = $1 ORDER BY pos LIMIT 1`,
    [pgText(sessionKey)],
  );
  return rows[0];
}

export async function lastSeq(c: pg.PoolClient, s: string, runId: string): Promise<number> {
  const { rows } = await c.query<{ s: Int }>(
    `SELECT coalesce(max(seq), 0)::int AS s FROM ${s}.events WHERE run_id = $1`,
    [runId],
  );
  return rows[0]?.s ?? 0;
}

export async function append(
  c: pg.PoolClient,
  s: string,
  runId: string,
  expectedSeq: number | 'tail',
  events: NewEvent[],
  now: number,
  chain: AuditChain,
): Promise<JournalEvent[]> {
  const { rows } = await c.query<{ seq: Int; hash: string | null; type: string }>(
    `SELECT seq, hash, type FROM ${s}.events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1`,
    [runId],
  );
  const last = rows[0]?.seq ?? 0;
  if (expectedSeq !== 'tail' && expectedSeq !== last + 1) throw seqTaken(runId, expectedSeq);
  if (events.length === 0) return [];
  let earlierClosing = false;
  if (rows[0] && AFTER_CLOSE_EVENTS.has(rows[0].type as NewEvent['type'])) {
    const found = await c.query(
      `SELECT 1 FROM ${s}.events WHERE run_id = $1 AND type = ANY($2::text[]) LIMIT 1`,
      [runId, [...CLOSING_EVENTS]],
    );
    earlierClosing = (found.rowCount ?? 0) > 0;
  }
  // A concurrent closing append is ordered by the primary key: the loser's insert fails and retries.
  if (
    admitAppend(
      { runId, expectedSeq, events },
      isClosedAfter(rows[0]?.type, () => earlierClosing),
    ) === 'drop'
  )
    return [];
  const seqs: number[] = [];
  const texts: string[] = [];
  const prevs: string[] = [];
  const hashes: string[] = [];
  let prev = rows[0]?.hash ?? GENESIS_HASH;
  events.forEach((e, i) => {
    const seq = last + 1 + i;
    const text = JSON.stringify(e.data);
    // Each event's hash covers its predecessor's: altering any stored byte breaks the chain there.
    const hash = chain.link(prev, runId, seq, now, EVENT_SCHEMA_VERSION, e.type, text);
    seqs.push(seq);
    texts.push(text);
    prevs.push(prev);
    hashes.push(hash);
    prev = hash;
  });
  try {
    // The primary key (run_id, seq) is the real arbiter: of two writers that read the same tail,
    // the second insert fails (after the first commits) and that writer lost the step.
    await c.query(
      `INSERT INTO ${s}.events (run_id, seq, at, v, type, data, prev_hash, hash)
       SELECT $1, x.seq, $2, $3, x.type, x.data, x.prev, x.hash
       FROM unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::text[]) AS x(seq, type, data, prev, hash)`,
      [runId, now, EVENT_SCHEMA_VERSION, seqs, events.map((e) => e.type), texts, prevs, hashes],
    );
  } catch (error) {
    if (isSeqRace(error)) throw new SeqRace(runId, expectedSeq);
    throw error;
  }
  // The head moves in the same transaction: verify compares it with the journal's end.
  await putHead(c, s, chain, runId, last + events.length, prev);
  return events.map(
    (e, i) =>
      ({
        runId,
        seq: seqs[i],
        at: now,
        v: EVENT_SCHEMA_VERSION,
        type: e.type,
        data: e.data,
      }) as JournalEvent,
  );
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

export async function approval(c: pg.PoolClient, s: string, a: ApprovalRow): Promise<void> {
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

export async function upsertTask(
  c: pg.PoolClient,
  s: string,
  t: TaskSpec,
  enqueued: TaskSpec[],
): Promise<void> {
  await c.query(
    `INSERT INTO ${s}.tasks (run_id, queue, ready_at) VALUES ($1, $2, $3)
     ON CONFLICT (run_id) DO UPDATE SET queue = excluded.queue, ready_at = excluded.ready_at,
       lease_owner = NULL, lease_expires = NULL`,
    [t.runId, t.queue, t.readyAt],
  );
  enqueued.push(t);
}

export async function project(c: pg.PoolClient, s: string, r: RunRow): Promise<void> {
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

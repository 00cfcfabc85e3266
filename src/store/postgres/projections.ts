/**
 * The runs projection, the approvals inbox and long-term facts on PostgreSQL (migrations 1, 2, 3,
 * 9), and how a journal row reads back.
 */
import type { JournalEvent } from '../../core/events.ts';
import type { RunStatus } from '../../core/run-state.ts';
import type {
  ApprovalRow,
  ApprovalsProjection,
  ApprovalStatus,
  FactRow,
  FactStore,
  RunQuery,
  RunRow,
  RunsProjection,
} from '../ports.ts';
import { fromPgOpt, fromPgText, impossibleId, pgOpt, pgText } from './text.ts';

type Int = number;
/** A retried query on the store's pool. */
export type Query = <R extends object>(sql: string, params?: unknown[]) => Promise<R[]>;

export function pgFacts(query: Query, s: string): FactStore {
  type FactDbRow = {
    id: string;
    actor_id: string;
    namespace: string;
    key: string;
    value: string;
    source: FactRow['source'];
    trusted: boolean;
    run_id: string | null;
    call_id: string | null;
    created_at: Int;
    expires_at: Int | null;
  };
  const toFact = (r: FactDbRow): FactRow => ({
    id: fromPgText(r.id),
    actorId: fromPgText(r.actor_id),
    namespace: fromPgText(r.namespace),
    key: fromPgText(r.key),
    value: fromPgText(r.value),
    source: r.source,
    trusted: r.trusted,
    runId: r.run_id,
    callId: fromPgOpt(r.call_id),
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
  });
  return {
    put: async (f) => {
      await query(
        `INSERT INTO ${s}.facts (id, actor_id, namespace, key, value, source, trusted, run_id, call_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (actor_id, namespace, key) DO UPDATE SET value = excluded.value, source = excluded.source,
           trusted = excluded.trusted, run_id = excluded.run_id, call_id = excluded.call_id,
           created_at = excluded.created_at, expires_at = excluded.expires_at`,
        [
          pgText(f.id),
          pgText(f.actorId),
          pgText(f.namespace),
          pgText(f.key),
          pgText(f.value),
          f.source,
          f.trusted,
          f.runId,
          pgOpt(f.callId),
          f.createdAt,
          f.expiresAt,
        ],
      );
    },
    list: async (actorId, now) =>
      (
        await query<FactDbRow>(
          `SELECT * FROM ${s}.facts WHERE actor_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at, id`,
          [pgText(actorId), now],
        )
      ).map(toFact),
    deleteActor: async (actorId) =>
      (await query(`DELETE FROM ${s}.facts WHERE actor_id = $1 RETURNING 1`, [pgText(actorId)])).length,
    sweep: async (now) =>
      (
        await query(`DELETE FROM ${s}.facts WHERE expires_at IS NOT NULL AND expires_at <= $1 RETURNING 1`, [
          now,
        ])
      ).length,
  };
}

export function pgApprovals(query: Query, s: string): ApprovalsProjection {
  return {
    get: async (id) => {
      if (impossibleId(id)) return null;
      const rows = await query<ApprovalDbRow>(`SELECT * FROM ${s}.approvals WHERE approval_id = $1`, [id]);
      return rows[0] ? toApprovalRow(rows[0]) : null;
    },
    list: async (q) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.status) where.push(`status = $${args.push(q.status)}`);
      if (q.runId) where.push(`run_id = $${args.push(q.runId)}`);
      args.push(q.limit ?? 100);
      const sql = `SELECT * FROM ${s}.approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY requested_at, approval_id LIMIT $${args.length}`;
      return (await query<ApprovalDbRow>(sql, args)).map(toApprovalRow);
    },
  };
}

type ApprovalDbRow = {
  approval_id: string;
  run_id: string;
  call_id: string;
  tool: string;
  agent: string;
  args: string;
  args_digest: string;
  reasons: string;
  requested_by: string;
  requested_at: Int;
  expires_at: Int;
  status: string;
  approver: string | null;
  comment: string | null;
  decided_at: Int | null;
};

function toApprovalRow(r: ApprovalDbRow): ApprovalRow {
  return {
    approvalId: r.approval_id,
    runId: r.run_id,
    callId: fromPgText(r.call_id),
    tool: r.tool,
    agent: r.agent,
    args: JSON.parse(r.args) as unknown,
    argsDigest: r.args_digest,
    reasons: JSON.parse(r.reasons) as string[],
    requestedBy: fromPgText(r.requested_by),
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    status: r.status as ApprovalStatus,
    approver: fromPgOpt(r.approver),
    comment: fromPgOpt(r.comment),
    decidedAt: r.decided_at,
  };
}

/** A journal row as the adapter selects it. */
export interface EventRow {
  run_id: string;
  seq: Int;
  at: Int;
  v: Int;
  type: string;
  data: string;
}

export function toEvent(r: EventRow): JournalEvent {
  return {
    runId: r.run_id,
    seq: r.seq,
    at: r.at,
    v: r.v,
    type: r.type,
    data: JSON.parse(r.data) as unknown,
  } as JournalEvent;
}

type RunDbRow = {
  run_id: string;
  actor_id: string;
  session_id: string;
  agent: string | null;
  status: string;
  parent_run_id: string | null;
  created_at: Int;
  updated_at: Int;
  last_seq: Int;
  summary: string | null;
  version?: string | null;
};

function toRunRow(r: RunDbRow): RunRow {
  return {
    runId: r.run_id,
    actorId: fromPgText(r.actor_id),
    sessionId: fromPgText(r.session_id),
    agent: r.agent,
    status: r.status as RunStatus,
    parentRunId: r.parent_run_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastSeq: r.last_seq,
    summary: fromPgOpt(r.summary),
    version: fromPgOpt(r.version ?? null),
  };
}

export function pgRuns(query: Query, s: string): RunsProjection {
  const list = async (q: RunQuery): Promise<RunRow[]> => {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (column: string, v: unknown, op = '='): void => {
      if (v === undefined) return;
      args.push(v);
      where.push(`${column} ${op} $${args.length}`);
    };
    add('actor_id', q.actorId === undefined ? undefined : pgText(q.actorId));
    add('session_id', q.sessionId === undefined ? undefined : pgText(q.sessionId));
    add('status', q.status);
    add('parent_run_id', q.parentRunId);
    add('agent', q.agent);
    add('version', q.version === undefined ? undefined : pgText(q.version));
    add('created_at', q.createdAfter, '>=');
    args.push(q.limit ?? 100);
    const sql = `SELECT * FROM ${s}.runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, run_id DESC LIMIT $${args.length}`;
    return (await query<RunDbRow>(sql, args)).map(toRunRow);
  };
  return {
    get: async (runId) => {
      if (impossibleId(runId)) return null;
      const rows = await query<RunDbRow>(`SELECT * FROM ${s}.runs WHERE run_id = $1`, [runId]);
      return rows[0] ? toRunRow(rows[0]) : null;
    },
    list,
    runnable: async () =>
      (
        await query<RunDbRow>(
          `SELECT r.* FROM ${s}.runs r WHERE r.status IN ('queued', 'running') AND NOT EXISTS (
             SELECT 1 FROM ${s}.session_runs s
             JOIN ${s}.session_runs h ON h.session_key = s.session_key AND h.pos < s.pos
             WHERE s.run_id = r.run_id)`,
        )
      ).map(toRunRow),
    dedup: async (key, now) =>
      (
        await query<{ run_id: string }>(`SELECT run_id FROM ${s}.dedup WHERE key = $1 AND expires_at > $2`, [
          pgText(key),
          now,
        ])
      )[0]?.run_id ?? null,
  };
}

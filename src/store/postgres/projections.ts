/** The approvals inbox and long-term facts on PostgreSQL (tables from migrations 2 and 3). */
import type { ApprovalRow, ApprovalsProjection, ApprovalStatus, FactRow, FactStore } from '../ports.ts';
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

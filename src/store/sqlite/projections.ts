/** The approvals inbox and long-term facts on SQLite (tables from migrations 2 and 3). */
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import type { ApprovalRow, ApprovalsProjection, ApprovalStatus, FactRow, FactStore } from '../ports.ts';
import { storedOpt, storedText } from '../text.ts';

type Row = Record<string, SQLInputValue>;
/** A cached prepared statement by SQL text. */
export type Stmt = (sql: string) => StatementSync;

/** A column value as text (SQLite returns text, numbers or bytes). */
export function str(v: SQLInputValue | undefined): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? `${v}` : '';
}

export function opt(v: SQLInputValue | undefined): string | null {
  return v === null || v === undefined ? null : str(v);
}

export function sqliteFacts(stmt: Stmt): FactStore {
  const toFact = (r: Row): FactRow => ({
    id: str(r.id),
    actorId: str(r.actor_id),
    namespace: str(r.namespace),
    key: str(r.key),
    value: str(r.value),
    source: str(r.source) as FactRow['source'],
    trusted: Number(r.trusted) === 1,
    runId: opt(r.run_id),
    callId: opt(r.call_id),
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at == null ? null : Number(r.expires_at),
  });
  return {
    put: async (f) => {
      stmt(
        `INSERT INTO facts (id, actor_id, namespace, key, value, source, trusted, run_id, call_id, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (actor_id, namespace, key) DO UPDATE SET value = excluded.value, source = excluded.source,
             trusted = excluded.trusted, run_id = excluded.run_id, call_id = excluded.call_id,
             created_at = excluded.created_at, expires_at = excluded.expires_at`,
      ).run(
        storedText(f.id),
        storedText(f.actorId),
        storedText(f.namespace),
        storedText(f.key),
        storedText(f.value),
        f.source,
        f.trusted ? 1 : 0,
        f.runId,
        storedOpt(f.callId),
        f.createdAt,
        f.expiresAt,
      );
    },
    list: async (actorId, now) =>
      (
        stmt(
          'SELECT * FROM facts WHERE actor_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id',
        ).all(storedText(actorId), now) as Row[]
      ).map(toFact),
    deleteActor: async (actorId) =>
      Number(stmt('DELETE FROM facts WHERE actor_id = ?').run(storedText(actorId)).changes),
    sweep: async (now) =>
      Number(stmt('DELETE FROM facts WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now).changes),
  };
}

export function sqliteApprovals(stmt: Stmt): ApprovalsProjection {
  const toRow = (r: Row): ApprovalRow => ({
    approvalId: str(r.approval_id),
    runId: str(r.run_id),
    callId: str(r.call_id),
    tool: str(r.tool),
    agent: str(r.agent),
    args: JSON.parse(str(r.args)) as unknown,
    argsDigest: str(r.args_digest),
    reasons: JSON.parse(str(r.reasons)) as string[],
    requestedBy: str(r.requested_by),
    requestedAt: Number(r.requested_at),
    expiresAt: Number(r.expires_at),
    status: str(r.status) as ApprovalStatus,
    approver: r.approver == null ? null : str(r.approver),
    comment: r.comment == null ? null : str(r.comment),
    decidedAt: r.decided_at == null ? null : Number(r.decided_at),
  });
  return {
    get: async (id) => {
      const r = stmt('SELECT * FROM approvals WHERE approval_id = ?').get(id) as Row | undefined;
      return r ? toRow(r) : null;
    },
    list: async (q) => {
      const where: string[] = [];
      const args: SQLInputValue[] = [];
      if (q.status) {
        where.push('status = ?');
        args.push(q.status);
      }
      if (q.runId) {
        where.push('run_id = ?');
        args.push(q.runId);
      }
      const sql = `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at, approval_id LIMIT ?`;
      return (stmt(sql).all(...args, q.limit ?? 100) as Row[]).map(toRow);
    },
  };
}

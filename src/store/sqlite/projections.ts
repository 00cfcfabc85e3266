/** The runs projection's rows, the approvals inbox and long-term facts on SQLite (migrations 1, 2, 3, 8). */
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import type { RunStatus } from '../../core/run-state.ts';
import type {
  ApprovalRow,
  ApprovalsProjection,
  ApprovalStatus,
  FactRow,
  FactStore,
  RunQuery,
  RunRow,
} from '../ports.ts';
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

export function toRunRow(r: Row): RunRow {
  return {
    runId: str(r.run_id ?? null),
    actorId: str(r.actor_id ?? null),
    sessionId: str(r.session_id ?? null),
    agent: opt(r.agent ?? null),
    status: str(r.status ?? null) as RunStatus,
    parentRunId: opt(r.parent_run_id ?? null),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastSeq: Number(r.last_seq),
    summary: opt(r.summary ?? null),
    version: opt(r.version ?? null),
  };
}

/** Upsert a run's projection row; a stale write (lower last seq) changes nothing. */
export function projectRun(stmt: Stmt, r: RunRow): void {
  stmt(
    `INSERT INTO runs (run_id, actor_id, session_id, agent, status, parent_run_id, created_at, updated_at, last_seq, summary, version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id) DO UPDATE SET agent = excluded.agent, status = excluded.status,
       updated_at = excluded.updated_at, last_seq = excluded.last_seq, summary = excluded.summary,
       version = excluded.version
     WHERE excluded.last_seq >= runs.last_seq`,
  ).run(
    r.runId,
    storedText(r.actorId),
    storedText(r.sessionId),
    r.agent,
    r.status,
    r.parentRunId,
    r.createdAt,
    r.updatedAt,
    r.lastSeq,
    storedOpt(r.summary),
    storedOpt(r.version ?? null),
  );
}

export function listRuns(stmt: Stmt, q: RunQuery): RunRow[] {
  const where: string[] = [];
  const args: SQLInputValue[] = [];
  const add = (sql: string, v: SQLInputValue | undefined): void => {
    if (v === undefined) return;
    where.push(sql);
    args.push(v);
  };
  add('actor_id = ?', q.actorId === undefined ? undefined : storedText(q.actorId));
  add('session_id = ?', q.sessionId === undefined ? undefined : storedText(q.sessionId));
  add('status = ?', q.status);
  add('parent_run_id = ?', q.parentRunId);
  add('agent = ?', q.agent);
  add('version = ?', q.version === undefined ? undefined : storedText(q.version));
  add('created_at >= ?', q.createdAfter);
  const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, run_id DESC LIMIT ?`;
  return (stmt(sql).all(...args, q.limit ?? 100) as Row[]).map(toRunRow);
}

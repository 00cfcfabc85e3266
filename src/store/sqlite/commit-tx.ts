/**
 * SQLite's commit primitives ({@link SyncCommitTx}) for the one commit algorithm (../commit.ts),
 * run inside the group commit's transaction or the unit's savepoint. Every statement is
 * synchronous: a unit never leaves its turn of the event loop.
 */
import type { AuditChain } from '../../core/audit.ts';
import { CLOSING_EVENTS } from '../../core/events.ts';
import type { JournalTail, SyncCommitTx } from '../commit.ts';
import type { ApprovalRow, TaskSpec } from '../ports.ts';
import { storedOpt, storedText } from '../text.ts';
import { projectRun, type Stmt } from './projections.ts';

/** Write a run's sealed head (last seq and hash). */
export function putHead(stmt: Stmt, chain: AuditChain, runId: string, seq: number, hash: string): void {
  stmt(
    `INSERT INTO run_heads (run_id, seq, hash, seal) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, seal = excluded.seal`,
  ).run(runId, seq, hash, chain.seal(runId, seq, hash));
}

/** The primitives of one unit at `now`. */
export function sqliteCommitTx(stmt: Stmt, chain: AuditChain, now: number): SyncCommitTx {
  const sessionHead = (sessionKey: string): { runId: string; queue: string } | undefined => {
    const row = stmt('SELECT run_id, queue FROM session_runs WHERE session_key = ? ORDER BY pos LIMIT 1').get(
      storedText(sessionKey),
    ) as { run_id: string; queue: string } | undefined;
    return row && { runId: row.run_id, queue: row.queue };
  };
  return {
    now,
    chain,
    fence: (runId) =>
      (stmt('SELECT fence FROM tasks WHERE run_id = ?').get(runId) as { fence: number } | undefined)?.fence,
    lastSeq: (runId) =>
      (stmt('SELECT coalesce(max(seq), 0) AS s FROM events WHERE run_id = ?').get(runId) as { s: number }).s,
    tail: (runId) => {
      const row = stmt('SELECT seq, hash, type FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(
        runId,
      ) as JournalTail | undefined;
      return row;
    },
    hasClosing: (runId) =>
      stmt(
        `SELECT 1 FROM events WHERE run_id = ? AND type IN (${[...CLOSING_EVENTS].map(() => '?').join(', ')}) LIMIT 1`,
      ).get(runId, ...CLOSING_EVENTS) !== undefined,
    claimDedup: (key, runId, expiresAt, at) => {
      const stored = storedText(key);
      if (stmt('SELECT run_id FROM dedup WHERE key = ? AND expires_at > ?').get(stored, at)) return false;
      stmt('INSERT OR REPLACE INTO dedup (key, run_id, expires_at) VALUES (?, ?, ?)').run(
        stored,
        runId,
        expiresAt,
      );
      return true;
    },
    insertEvents: (runId, _expectedSeq, rows) => {
      const insert = stmt(
        'INSERT INTO events (run_id, seq, at, v, type, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of rows) insert.run(runId, r.seq, r.at, r.v, r.type, r.dataText, r.prevHash, r.hash);
    },
    putHead: (runId, seq, hash) => putHead(stmt, chain, runId, seq, hash),
    deleteTasks: (runIds) => {
      for (const runId of runIds) stmt('DELETE FROM tasks WHERE run_id = ?').run(runId);
    },
    dropDedup: (runIds) => {
      for (const runId of runIds) stmt('DELETE FROM dedup WHERE run_id = ?').run(runId);
    },
    upsertTask: (t) => upsertTask(stmt, t),
    project: (r) => projectRun(stmt, r),
    approval: (a) => approval(stmt, a),
    // One connection, one writer: the transaction already serializes sessions.
    lockSession: () => {},
    joinSession: (sessionKey, runId, queue) => {
      stmt('INSERT INTO session_runs (session_key, run_id, queue) VALUES (?, ?, ?)').run(
        storedText(sessionKey),
        runId,
        queue,
      );
    },
    leaveSession: (_sessionKey, runId) => {
      stmt('DELETE FROM session_runs WHERE run_id = ?').run(runId);
    },
    sessionHead,
  };
}

function upsertTask(stmt: Stmt, t: TaskSpec): void {
  stmt(
    `INSERT INTO tasks (run_id, queue, ready_at) VALUES (?, ?, ?)
     ON CONFLICT (run_id) DO UPDATE SET queue = excluded.queue, ready_at = excluded.ready_at,
       lease_owner = NULL, lease_expires = NULL`,
  ).run(t.runId, t.queue, t.readyAt);
}

function approval(stmt: Stmt, a: ApprovalRow): void {
  stmt(
    `INSERT INTO approvals (approval_id, run_id, call_id, tool, agent, args, args_digest, reasons, requested_by,
       requested_at, expires_at, status, approver, comment, decided_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (approval_id) DO UPDATE SET run_id = excluded.run_id, call_id = excluded.call_id,
       tool = excluded.tool, agent = excluded.agent, args = excluded.args, args_digest = excluded.args_digest,
       reasons = excluded.reasons, requested_by = excluded.requested_by, requested_at = excluded.requested_at,
       expires_at = excluded.expires_at, status = excluded.status, approver = excluded.approver,
       comment = excluded.comment, decided_at = excluded.decided_at`,
  ).run(
    a.approvalId,
    a.runId,
    storedText(a.callId),
    a.tool,
    a.agent,
    JSON.stringify(a.args ?? null),
    a.argsDigest,
    JSON.stringify(a.reasons),
    storedText(a.requestedBy),
    a.requestedAt,
    a.expiresAt,
    a.status,
    storedOpt(a.approver),
    storedOpt(a.comment),
    a.decidedAt,
  );
}

/**
 * The wake-up queue on SQLite: claims take a new fence per task in one short write transaction;
 * lease bookkeeping commits without an fsync (see leaseWrite). Enqueue is a commit (store.ts).
 */
import type { DatabaseSync } from 'node:sqlite';
import type { ClaimedTask, Queue, TaskSpec } from '../ports.ts';
import type { Stmt } from './projections.ts';

/** What the queue needs from its store. */
export interface QueueDeps {
  db: DatabaseSync;
  stmt: Stmt;
  now: () => number;
  synchronous: 'FULL' | 'NORMAL';
  enqueue: (task: TaskSpec) => Promise<void>;
}

/** The store's queue port. */
export function sqliteQueue(o: QueueDeps): Queue {
  const { stmt, now } = o;
  return {
    enqueue: o.enqueue,
    claim: async (queue, owner, limit, leaseMs) => claim(o, queue, owner, limit, leaseMs),
    extend: async (runId, fence, leaseMs) =>
      stmt(
        'UPDATE tasks SET lease_expires = ? WHERE run_id = ? AND fence = ? AND lease_owner IS NOT NULL',
      ).run(now() + leaseMs, runId, fence).changes === 1,
    release: async (runId, fence, readyAt) => {
      stmt(
        'UPDATE tasks SET lease_owner = NULL, lease_expires = NULL, ready_at = coalesce(?, ready_at) WHERE run_id = ? AND fence = ?',
      ).run(readyAt ?? null, runId, fence);
    },
    nextReadyAt: async (queue) => {
      const row = stmt(
        'SELECT min(CASE WHEN lease_owner IS NULL THEN ready_at ELSE max(ready_at, lease_expires) END) AS t FROM tasks WHERE queue = ?',
      ).get(queue) as { t: number | null };
      return row.t;
    },
    pendingRunIds: async () =>
      new Set((stmt('SELECT run_id FROM tasks').all() as { run_id: string }[]).map((r) => r.run_id)),
    depth: async (queue) =>
      (stmt('SELECT count(*) AS n FROM tasks WHERE queue = ?').get(queue) as { n: number }).n,
  };
}

/**
 * Lease bookkeeping is not journal: losing it to a power cut only loses a lease, which expires
 * or is fenced anyway. So it commits without an fsync; the next journal commit (FULL) makes the
 * WAL durable up to and including it.
 */
function leaseWrite<T>(o: QueueDeps, fn: () => T): T {
  if (o.synchronous === 'FULL') o.db.exec('PRAGMA synchronous = NORMAL');
  try {
    return fn();
  } finally {
    if (o.synchronous === 'FULL') o.db.exec('PRAGMA synchronous = FULL');
  }
}

function claim(o: QueueDeps, queue: string, owner: string, limit: number, leaseMs: number): ClaimedTask[] {
  if (limit <= 0) return [];
  const ready = o
    .stmt(
      `SELECT 1 FROM tasks WHERE queue = ? AND ready_at <= ? AND (lease_owner IS NULL OR lease_expires <= ?) LIMIT 1`,
    )
    .get(queue, o.now(), o.now());
  // Nothing to claim: no write transaction at all.
  if (!ready) return [];
  return leaseWrite(o, () => claimTx(o, queue, owner, limit, leaseMs));
}

function claimTx(o: QueueDeps, queue: string, owner: string, limit: number, leaseMs: number): ClaimedTask[] {
  const now = o.now();
  const expires = now + leaseMs;
  const claimed: ClaimedTask[] = [];
  o.db.exec('BEGIN IMMEDIATE');
  try {
    const rows = o
      .stmt(
        `SELECT run_id, ready_at, attempts FROM tasks WHERE queue = ? AND ready_at <= ?
         AND (lease_owner IS NULL OR lease_expires <= ?) ORDER BY ready_at LIMIT ?`,
      )
      .all(queue, now, now, limit) as { run_id: string; ready_at: number; attempts: number }[];
    const nextFence = o.stmt("UPDATE meta SET value = value + 1 WHERE key = 'fence' RETURNING value");
    const take = o.stmt(
      'UPDATE tasks SET lease_owner = ?, lease_expires = ?, fence = ?, attempts = attempts + 1 WHERE run_id = ?',
    );
    for (const r of rows) {
      // A new fence per claim: a worker whose lease was taken can no longer commit for this run.
      const fence = (nextFence.get() as { value: number }).value;
      take.run(owner, expires, fence, r.run_id);
      claimed.push({
        runId: r.run_id,
        queue,
        readyAt: r.ready_at,
        owner,
        fence,
        leaseExpiresAt: expires,
        attempts: r.attempts + 1,
      });
    }
    o.db.exec('COMMIT');
  } catch (error) {
    if (o.db.isTransaction) o.db.exec('ROLLBACK');
    throw error;
  }
  return claimed;
}

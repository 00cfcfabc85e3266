/**
 * Statements of one commit on PostgreSQL, on the commit's own connection: journal appends with the
 * hash chain, session order, tasks, and the runs and approvals projections.
 */
import type pg from 'pg';
import type { AuditChain, StoredEvent } from '../../core/audit.ts';
import { CLOSING_EVENTS, EVENT_SCHEMA_VERSION } from '../../core/events.ts';
import type { CommitTx, JournalTail } from '../commit.ts';
import type { ApprovalRow, RunRow, TaskSpec } from '../ports.ts';
import { isSeqRace } from './errors.ts';
import { pgOpt, pgText, SeqRace } from './text.ts';

type Int = number;

/** The writes of a commit held back until {@link PgCommitTx.flush}, in the order they were made. */
type Write =
  | { kind: 'events'; runId: string; expectedSeq: number | 'tail'; rows: StoredEvent[] }
  | { kind: 'head'; runId: string; seq: number; hash: string }
  | { kind: 'deleteTasks'; runIds: string[] }
  | { kind: 'dropDedup'; runIds: string[] }
  | { kind: 'task'; task: TaskSpec }
  | { kind: 'project'; row: RunRow };

/** {@link CommitTx} plus the flush of its held-back writes (and the commit's notices) in one statement. */
export interface PgCommitTx extends CommitTx {
  /** Send every held-back write, and `notices` on `channel`, to the database. */
  flush(channel: string, notices: readonly string[]): Promise<void>;
}

/**
 * PostgreSQL's commit primitives ({@link CommitTx}) for the one commit algorithm (../commit.ts),
 * on the commit's own connection inside its transaction.
 *
 * Round trips, not PostgreSQL's work, dominate a small commit: every statement is a named
 * (prepared) one, parsed and planned once per connection, and the writes whose answer the
 * algorithm does not need (events, heads, tasks, dedup drops, projection rows) are held back and
 * sent as one statement of data-modifying CTEs, with the commit's notices, before the next read or
 * at the end (session order, on a table of its own, does not wait for them: its statements go
 * straight out). They are still inside the transaction, so nothing changes for a reader, and a
 * statement's CTEs all see one snapshot, which is why the batch is sent only when no row is
 * written twice (otherwise the writes go one statement each, in order, as before).
 */
export function pgCommitTx(
  c: pg.PoolClient,
  s: string,
  schema: string,
  chain: AuditChain,
  now: number,
  appendRuns: readonly string[] = [],
): PgCommitTx {
  const q = <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) =>
    c.query<R>({ name: `sb_${schema}_${name}`, text, values });
  const pending: Write[] = [];
  const tails = new Map<string, JournalTail | undefined>();
  const flushWrites = async (channel: string | null, notices: readonly string[]): Promise<void> => {
    const writes = pending.splice(0);
    if (writes.length === 0 && notices.length === 0) return;
    if (writes.some((w) => w.kind === 'events' && w.rows.length === 0) || !batchable(writes)) {
      for (const w of writes) await writeOne(c, s, q, chain, now, w);
      if (notices.length > 0) await notify(q, channel, notices);
      return;
    }
    await writeBatch(s, q, chain, now, writes, channel, notices);
  };
  const flushed = async (): Promise<void> => {
    if (pending.length > 0) await flushWrites(null, []);
  };
  const sessionHead = async (sessionKey: string): Promise<{ runId: string; queue: string } | undefined> => {
    const { rows } = await q<{ run_id: string; queue: string }>(
      'shead',
      `SELECT run_id, queue FROM ${s}.session_runs WHERE session_key = $1 ORDER BY pos LIMIT 1`,
      [pgText(sessionKey)],
    );
    return rows[0] && { runId: rows[0].run_id, queue: rows[0].queue };
  };
  return {
    now,
    chain,
    flush: (channel, notices) => flushWrites(channel, notices),
    fence: async (runId) => {
      await flushed();
      if (appendRuns.length > 0) return fenceWithTails(q, s, runId, appendRuns, tails);
      // Lock the task row: a concurrent claim (which moves the fence) is ordered before or after us.
      const { rows } = await q<{ fence: Int }>(
        'fence',
        `SELECT fence FROM ${s}.tasks WHERE run_id = $1 FOR UPDATE`,
        [runId],
      );
      return rows[0]?.fence;
    },
    lastSeq: async (runId) => {
      await flushed();
      const { rows } = await q<{ s: Int }>(
        'lastseq',
        `SELECT coalesce(max(seq), 0)::int AS s FROM ${s}.events WHERE run_id = $1`,
        [runId],
      );
      return rows[0]?.s ?? 0;
    },
    tail: async (runId) => {
      // Read with the fence (once: the algorithm asks for each run's tail before any write).
      if (tails.has(runId)) {
        const tail = tails.get(runId);
        tails.delete(runId);
        return tail;
      }
      await flushed();
      const { rows } = await q<JournalTail>(
        'tail',
        `SELECT seq, hash, type FROM ${s}.events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1`,
        [runId],
      );
      return rows[0];
    },
    hasClosing: async (runId) => {
      await flushed();
      const found = await q(
        'closing',
        `SELECT 1 FROM ${s}.events WHERE run_id = $1 AND type = ANY($2::text[]) LIMIT 1`,
        [runId, [...CLOSING_EVENTS]],
      );
      return (found.rowCount ?? 0) > 0;
    },
    claimDedup: async (key, runId, expiresAt, at) => {
      await flushed();
      // One statement decides: a live key is never overwritten, an expired one is.
      const { rowCount } = await q(
        'dedup',
        `INSERT INTO ${s}.dedup (key, run_id, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
         WHERE ${s}.dedup.expires_at <= $4`,
        [pgText(key), runId, expiresAt, at],
      );
      return rowCount === 1;
    },
    insertEvents: (runId, expectedSeq, rows) => {
      pending.push({ kind: 'events', runId, expectedSeq, rows });
    },
    putHead: (runId, seq, hash) => {
      pending.push({ kind: 'head', runId, seq, hash });
    },
    deleteTasks: (runIds) => {
      pending.push({ kind: 'deleteTasks', runIds });
    },
    dropDedup: (runIds) => {
      pending.push({ kind: 'dropDedup', runIds });
    },
    upsertTask: (task) => {
      pending.push({ kind: 'task', task });
    },
    project: (row) => {
      pending.push({ kind: 'project', row });
    },
    approval: async (a) => {
      await flushed();
      await approval(c, s, a);
    },
    lockSession: async (sessionKey) => {
      await q('slock', 'SELECT pg_advisory_xact_lock(hashtextextended($1, 11))', [
        `${schema}:${pgText(sessionKey)}`,
      ]);
    },
    joinSession: async (sessionKey, runId, queue) => {
      await q('sjoin', `INSERT INTO ${s}.session_runs (session_key, run_id, queue) VALUES ($1, $2, $3)`, [
        pgText(sessionKey),
        runId,
        queue,
      ]);
    },
    leaveSession: async (_sessionKey, runId) => {
      await q('sleave', `DELETE FROM ${s}.session_runs WHERE run_id = $1`, [runId]);
    },
    sessionHead,
  };
}

type Q = <R extends pg.QueryResultRow>(
  name: string,
  text: string,
  values: unknown[],
) => Promise<pg.QueryResult<R>>;

/**
 * The fence, locked, and the tails of the unit's appends, in one round trip. Read in the
 * statement's snapshot, a tail can be older than the lock (a writer that held it committed in
 * between); the journal's key still refuses the stale seq (a SeqRace), as it does for any writer.
 */
async function fenceWithTails(
  q: Q,
  s: string,
  runId: string,
  appendRuns: readonly string[],
  tails: Map<string, JournalTail | undefined>,
): Promise<Int | undefined> {
  const { rows } = await q<{ run_id: string | null; seq: Int; hash: string | null; type: string }>(
    'fencetails',
    `SELECT NULL::text AS run_id, f.fence AS seq, NULL::text AS hash, NULL::text AS type
       FROM (SELECT fence FROM ${s}.tasks WHERE run_id = $1 FOR UPDATE) f
       UNION ALL
       SELECT r.id, x.seq, x.hash, x.type FROM unnest($2::text[]) AS r(id)
       CROSS JOIN LATERAL (SELECT seq, hash, type FROM ${s}.events WHERE run_id = r.id
         ORDER BY seq DESC LIMIT 1) x`,
    [runId, appendRuns],
  );
  for (const id of appendRuns) tails.set(id, undefined);
  let fence: Int | undefined;
  for (const r of rows) {
    if (r.run_id === null) fence = r.seq;
    else tails.set(r.run_id, { seq: r.seq, hash: r.hash, type: r.type });
  }
  return fence;
}

/**
 * Whether the writes can share one statement: its CTEs see one snapshot and run in no set order,
 * so no row may be written twice (a task deleted and upserted, two heads of one run, ...).
 */
function batchable(writes: readonly Write[]): boolean {
  const events = new Set<string>();
  const heads = new Set<string>();
  const tasks = new Set<string>();
  const dedup = new Set<string>();
  const runs = new Set<string>();
  const once = (set: Set<string>, key: string): boolean => !set.has(key) && (set.add(key), true);
  for (const w of writes) {
    const ok =
      w.kind === 'events'
        ? once(events, w.runId)
        : w.kind === 'head'
          ? once(heads, w.runId)
          : w.kind === 'deleteTasks'
            ? w.runIds.every((id) => once(tasks, id))
            : w.kind === 'dropDedup'
              ? w.runIds.every((id) => once(dedup, id))
              : w.kind === 'task'
                ? once(tasks, w.task.runId)
                : once(runs, w.row.runId);
    if (!ok) return false;
  }
  return true;
}

/** The held-back writes (and notices) as one statement; a seq lost to a concurrent writer is a SeqRace. */
async function writeBatch(
  s: string,
  q: Q,
  chain: AuditChain,
  now: number,
  writes: readonly Write[],
  channel: string | null,
  notices: readonly string[],
): Promise<void> {
  const ev = { run: [] as string[], seq: [] as number[], type: [] as string[], data: [] as string[] };
  const prev: (string | null)[] = [];
  const hash: string[] = [];
  const sent = new Map<string, { expectedSeq: number | 'tail'; n: number }>();
  const head = { run: [] as string[], seq: [] as number[], hash: [] as string[], seal: [] as string[] };
  const delTasks: string[] = [];
  const delDedup: string[] = [];
  const task = { run: [] as string[], queue: [] as string[], ready: [] as number[] };
  const r = {
    run: [] as string[],
    actor: [] as string[],
    session: [] as string[],
    agent: [] as (string | null)[],
    status: [] as string[],
    parent: [] as (string | null)[],
    created: [] as number[],
    updated: [] as number[],
    last: [] as number[],
    summary: [] as (string | null)[],
    version: [] as (string | null)[],
  };
  for (const w of writes) {
    if (w.kind === 'events') {
      sent.set(w.runId, { expectedSeq: w.expectedSeq, n: w.rows.length });
      for (const e of w.rows) {
        ev.run.push(w.runId);
        ev.seq.push(e.seq);
        ev.type.push(e.type);
        ev.data.push(e.dataText);
        prev.push(e.prevHash);
        hash.push(e.hash);
      }
    } else if (w.kind === 'head') {
      head.run.push(w.runId);
      head.seq.push(w.seq);
      head.hash.push(w.hash);
      head.seal.push(chain.seal(w.runId, w.seq, w.hash));
    } else if (w.kind === 'deleteTasks') delTasks.push(...w.runIds);
    else if (w.kind === 'dropDedup') delDedup.push(...w.runIds);
    else if (w.kind === 'task') {
      task.run.push(w.task.runId);
      task.queue.push(w.task.queue);
      task.ready.push(w.task.readyAt);
    } else {
      const p = w.row;
      r.run.push(p.runId);
      r.actor.push(pgText(p.actorId));
      r.session.push(pgText(p.sessionId));
      r.agent.push(p.agent);
      r.status.push(p.status);
      r.parent.push(p.parentRunId);
      r.created.push(p.createdAt);
      r.updated.push(p.updatedAt);
      r.last.push(p.lastSeq);
      r.summary.push(pgOpt(p.summary));
      r.version.push(pgOpt(p.version ?? null));
    }
  }
  // ON CONFLICT DO NOTHING on the journal's key: a row taken by a concurrent writer (which this
  // insert waits for, as a plain insert would) is left out of RETURNING, and the commit rolls back.
  const { rows } = await q<{ ins: string[] }>(
    'batch',
    `WITH ev AS (
       INSERT INTO ${s}.events (run_id, seq, at, v, type, data, prev_hash, hash)
       SELECT x.run_id, x.seq, $1, $2, x.type, x.data, x.prev, x.hash
       FROM unnest($3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[])
         AS x(run_id, seq, type, data, prev, hash)
       ON CONFLICT (run_id, seq) DO NOTHING RETURNING run_id),
     hd AS (
       INSERT INTO ${s}.run_heads (run_id, seq, hash, seal)
       SELECT * FROM unnest($9::text[], $10::int[], $11::text[], $12::text[])
       ON CONFLICT (run_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, seal = excluded.seal),
     dt AS (DELETE FROM ${s}.tasks WHERE run_id = ANY($13::text[])),
     dd AS (DELETE FROM ${s}.dedup WHERE run_id = ANY($14::text[])),
     ut AS (
       INSERT INTO ${s}.tasks (run_id, queue, ready_at)
       SELECT * FROM unnest($15::text[], $16::text[], $17::int8[])
       ON CONFLICT (run_id) DO UPDATE SET queue = excluded.queue, ready_at = excluded.ready_at,
         lease_owner = NULL, lease_expires = NULL),
     pr AS (
       INSERT INTO ${s}.runs AS old (run_id, actor_id, session_id, agent, status, parent_run_id, created_at,
         updated_at, last_seq, summary, version)
       SELECT * FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[],
         $24::int8[], $25::int8[], $26::int[], $27::text[], $28::text[])
       ON CONFLICT (run_id) DO UPDATE SET agent = excluded.agent, status = excluded.status,
         updated_at = excluded.updated_at, last_seq = excluded.last_seq, summary = excluded.summary,
         version = excluded.version
       WHERE excluded.last_seq >= old.last_seq)
     SELECT ARRAY(SELECT run_id FROM ev) AS ins,
       (SELECT count(pg_notify($29, n)) FROM unnest($30::text[]) AS n) AS notified`,
    [
      now,
      EVENT_SCHEMA_VERSION,
      ev.run,
      ev.seq,
      ev.type,
      ev.data,
      prev,
      hash,
      head.run,
      head.seq,
      head.hash,
      head.seal,
      delTasks,
      delDedup,
      task.run,
      task.queue,
      task.ready,
      r.run,
      r.actor,
      r.session,
      r.agent,
      r.status,
      r.parent,
      r.created,
      r.updated,
      r.last,
      r.summary,
      r.version,
      channel ?? '',
      channel === null ? [] : notices,
    ],
  );
  const inserted = new Map<string, number>();
  for (const id of rows[0]?.ins ?? []) inserted.set(id, (inserted.get(id) ?? 0) + 1);
  for (const [runId, { expectedSeq, n }] of sent)
    if ((inserted.get(runId) ?? 0) !== n) throw new SeqRace(runId, expectedSeq);
}

/** One held-back write as its own statement (when the batch cannot take it). */
async function writeOne(
  c: pg.PoolClient,
  s: string,
  q: Q,
  chain: AuditChain,
  now: number,
  w: Write,
): Promise<void> {
  if (w.kind === 'events') {
    if (w.rows.length === 0) return;
    try {
      // The primary key (run_id, seq) is the real arbiter: of two writers that read the same tail,
      // the second insert fails (after the first commits) and that writer lost the step.
      await q(
        'events',
        `INSERT INTO ${s}.events (run_id, seq, at, v, type, data, prev_hash, hash)
         SELECT $1, x.seq, $2, $3, x.type, x.data, x.prev, x.hash
         FROM unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::text[]) AS x(seq, type, data, prev, hash)`,
        [
          w.runId,
          now,
          EVENT_SCHEMA_VERSION,
          w.rows.map((r) => r.seq),
          w.rows.map((r) => r.type),
          w.rows.map((r) => r.dataText),
          w.rows.map((r) => r.prevHash),
          w.rows.map((r) => r.hash),
        ],
      );
    } catch (error) {
      if (isSeqRace(error)) throw new SeqRace(w.runId, w.expectedSeq);
      throw error;
    }
  } else if (w.kind === 'head') await putHead(c, s, chain, w.runId, w.seq, w.hash);
  else if (w.kind === 'deleteTasks')
    await q('deltasks', `DELETE FROM ${s}.tasks WHERE run_id = ANY($1::text[])`, [w.runIds]);
  else if (w.kind === 'dropDedup')
    await q('deldedup', `DELETE FROM ${s}.dedup WHERE run_id = ANY($1::text[])`, [w.runIds]);
  else if (w.kind === 'task') await upsertTask(c, s, w.task);
  else await project(c, s, w.row);
}

async function notify(q: Q, channel: string | null, notices: readonly string[]): Promise<void> {
  if (channel === null) return;
  await q('notify', 'SELECT count(pg_notify($1, n)) FROM unnest($2::text[]) AS n', [channel, notices]);
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

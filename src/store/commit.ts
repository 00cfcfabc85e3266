/**
 * The one commit algorithm. Every adapter (memory, SQLite, PostgreSQL) applies a {@link Commit}
 * through {@link applyCommit} over its own {@link CommitTx} primitives, inside its own
 * transaction; so the checks, their order and the ConflictError reasons (built in ./conflicts.ts)
 * are the same on every store:
 *
 * 1. the lease fence (`fenced`), then the seq assertions (`moved`);
 * 2. each append's expected seq (`seq`) and closed journal (`closed`, or a dropped `'tail'`);
 * 3. the dedup key (`duplicate`);
 * 4. only then the writes: events with their hash chain and head, tasks, dedup drops, projection
 *    and approval rows, session order.
 *
 * Every check comes before the first write, so a store without rollback (memory) applies a unit
 * entirely or not at all. SQLite and memory answer synchronously and run it with
 * {@link applyCommitSync} (the SQLite group commit stays in one turn of the event loop, its
 * savepoints intact); PostgreSQL answers with promises and runs it with {@link applyCommitAsync}.
 */
import { duplicateKey, leaseLost, movedOn, seqTaken } from './conflicts.ts';
import type { AuditChain, StoredEvent } from '../core/audit.ts';
import { GENESIS_HASH } from '../core/audit.ts';
import {
  AFTER_CLOSE_EVENTS,
  CLOSING_EVENTS,
  EVENT_SCHEMA_VERSION,
  type JournalEvent,
} from '../core/events.ts';
import { admitAppend } from './closed.ts';
import type { ApprovalRow, Commit, CommitResult, RunRow, TaskSpec } from './ports.ts';

/** A value now (SQLite, memory) or later (PostgreSQL). */
export type Step<T> = T | Promise<T>;

/** The last stored event of a run: where the next append goes and what its hash links to. */
export interface JournalTail {
  seq: number;
  /** Null only on events stored before the hash chain existed: the next one links to genesis. */
  hash: string | null;
  type: string;
}

/** What {@link applyCommit} asks of an adapter, inside the adapter's transaction. */
export interface CommitTx {
  /** The store's time for this unit: every event and task of the unit gets it. */
  readonly now: number;
  readonly chain: AuditChain;
  /** The fence of the run's task, or undefined when it has none (PostgreSQL locks the row). */
  fence(runId: string): Step<number | undefined>;
  /** The last seq of the run's journal (0 when empty). */
  lastSeq(runId: string): Step<number>;
  /** The run's last stored event, or undefined when its journal is empty. */
  tail(runId: string): Step<JournalTail | undefined>;
  /** Whether the run's journal holds a closing event anywhere (asked only after an erasure). */
  hasClosing(runId: string): Step<boolean>;
  /** Record a dedup key unless a live one exists; false when one does. */
  claimDedup(key: string, runId: string, expiresAt: number, now: number): Step<boolean>;
  /**
   * Store the events (`rows` as hashed, `events` as read back) after the run's tail. PostgreSQL
   * lets its primary key arbitrate a concurrent writer here (SeqRace).
   */
  insertEvents(
    runId: string,
    expectedSeq: number | 'tail',
    rows: StoredEvent[],
    events: JournalEvent[],
  ): Step<void>;
  /** Move the run's sealed head to (seq, hash). */
  putHead(runId: string, seq: number, hash: string): Step<void>;
  deleteTasks(runIds: string[]): Step<void>;
  /** Delete the dedup keys pointing at these runs. */
  dropDedup(runIds: string[]): Step<void>;
  /** Create or move the run's task (an existing lease is dropped, its fence kept). */
  upsertTask(task: TaskSpec): Step<void>;
  /** Upsert a runs-projection row unless the stored one is at a later seq. */
  project(row: RunRow): Step<void>;
  /** Upsert an approval row whole. */
  approval(row: ApprovalRow): Step<void>;
  /** Serialize the session's joins and leaves (a no-op where the store is single-writer). */
  lockSession(sessionKey: string): Step<void>;
  joinSession(sessionKey: string, runId: string, queue: string): Step<void>;
  leaveSession(sessionKey: string, runId: string): Step<void>;
  /** The run at the head of the session's order. */
  sessionHead(sessionKey: string): Step<{ runId: string; queue: string } | undefined>;
}

/** The outcome of one applied unit: its result, and the tasks it created or moved (for listeners). */
export interface Applied extends CommitResult {
  enqueued: TaskSpec[];
}

/** {@link CommitTx} of an adapter that answers synchronously. */
export type SyncCommitTx = {
  [K in keyof CommitTx]: CommitTx[K] extends (...args: infer A) => Step<infer R>
    ? (...args: A) => Awaited<R>
    : CommitTx[K];
};

type Steps<R> = Generator<unknown, R, unknown>;

/** Hand one primitive's answer to the driver and get it back resolved. */
function* step<T>(value: Step<T>): Steps<T> {
  return (yield value) as T;
}

/** Apply a unit on a synchronous adapter, within the caller's transaction (or savepoint). */
export function applyCommitSync(unit: Commit, tx: SyncCommitTx): Applied {
  const run = applyCommit(unit, tx);
  for (let next = run.next(); ; next = run.next(next.value)) if (next.done) return next.value;
}

/** Apply a unit on an asynchronous adapter, within the caller's transaction. */
export async function applyCommitAsync(unit: Commit, tx: CommitTx): Promise<Applied> {
  const run = applyCommit(unit, tx);
  for (let next = run.next(); ; next = run.next(await next.value)) if (next.done) return next.value;
}

/** A planned append: the rows to insert and the head they leave, or null for a dropped one. */
interface Planned {
  runId: string;
  expectedSeq: number | 'tail';
  rows: StoredEvent[];
  events: JournalEvent[];
}

/**
 * The algorithm, as a generator over the adapter's answers (see the drivers above): checks first,
 * then writes; any check that fails throws before anything was written.
 */
export function* applyCommit(unit: Commit, tx: CommitTx): Steps<Applied> {
  if (unit.fence) {
    // The fence moves on every claim: holding the one we were given proves we still own the run.
    const fence = yield* step(tx.fence(unit.fence.runId));
    if (fence !== unit.fence.fence) throw leaseLost(unit.fence.runId);
  }
  for (const a of unit.assertSeq ?? []) {
    const last = yield* step(tx.lastSeq(a.runId));
    if (last !== a.seq) throw movedOn(a.runId, last);
  }
  const planned = yield* planAppends(unit, tx);
  if (unit.dedup) {
    const { key, runId, expiresAt } = unit.dedup;
    // One primitive decides: a live key is never overwritten, an expired one is.
    if (!(yield* step(tx.claimDedup(key, runId, expiresAt, tx.now)))) throw duplicateKey(key, runId);
  }
  const events: JournalEvent[] = [];
  for (const p of planned) {
    const last = p.rows.at(-1);
    if (!last) continue;
    yield* step(tx.insertEvents(p.runId, p.expectedSeq, p.rows, p.events));
    // The head moves in the same transaction: verify compares it with the journal's end.
    yield* step(tx.putHead(p.runId, last.seq, last.hash));
    events.push(...p.events);
  }
  const enqueued: TaskSpec[] = [];
  const upsert = function* (task: TaskSpec): Steps<void> {
    yield* step(tx.upsertTask(task));
    enqueued.push(task);
  };
  if (unit.deleteTasks?.length) yield* step(tx.deleteTasks(unit.deleteTasks));
  if (unit.dropDedup?.length) yield* step(tx.dropDedup(unit.dropDedup));
  for (const t of unit.upsertTasks ?? []) yield* upsert(t);
  for (const r of unit.projection ?? []) yield* step(tx.project(r));
  for (const a of unit.approvals ?? []) yield* step(tx.approval(a));
  const woken: TaskSpec[] = [];
  if (unit.session?.join) {
    const { sessionKey, runId, queue } = unit.session.join;
    // Two runs joining at once must not both see themselves as the head.
    yield* step(tx.lockSession(sessionKey));
    yield* step(tx.joinSession(sessionKey, runId, queue));
    const head = yield* step(tx.sessionHead(sessionKey));
    if (head?.runId === runId) yield* upsert({ runId, queue, readyAt: tx.now });
  }
  if (unit.session?.leave) {
    const { sessionKey, runId } = unit.session.leave;
    yield* step(tx.lockSession(sessionKey));
    const wasHead = (yield* step(tx.sessionHead(sessionKey)))?.runId === runId;
    yield* step(tx.leaveSession(sessionKey, runId));
    const next = wasHead ? yield* step(tx.sessionHead(sessionKey)) : undefined;
    if (next) {
      const task = { runId: next.runId, queue: next.queue, readyAt: tx.now };
      yield* upsert(task);
      woken.push(task);
    }
  }
  return { events, woken, enqueued };
}

/**
 * Check every append against its journal's tail (and the appends before it in the unit) and hash
 * its events; nothing is written yet.
 */
function* planAppends(unit: Commit, tx: CommitTx): Steps<Planned[]> {
  const tails = new Map<string, { seq: number; hash: string; closed: boolean }>();
  const planned: Planned[] = [];
  for (const op of unit.appends ?? []) {
    let was = tails.get(op.runId);
    if (!was) {
      const tail = yield* step(tx.tail(op.runId));
      let closed = tail !== undefined && CLOSING_EVENTS.has(tail.type as JournalEvent['type']);
      // After an erasure the journal may still be closed further back.
      if (tail && AFTER_CLOSE_EVENTS.has(tail.type as JournalEvent['type']))
        closed = yield* step(tx.hasClosing(op.runId));
      was = { seq: tail?.seq ?? 0, hash: tail?.hash ?? GENESIS_HASH, closed };
    }
    if (op.expectedSeq !== 'tail' && op.expectedSeq !== was.seq + 1) throw seqTaken(op.runId, op.expectedSeq);
    if (admitAppend(op, was.closed) === 'drop') continue;
    const rows: StoredEvent[] = [];
    const events: JournalEvent[] = [];
    let prevHash = was.hash;
    for (const e of op.events) {
      const seq = was.seq + 1 + rows.length;
      const dataText = JSON.stringify(e.data);
      // Each event's hash covers its predecessor's: altering any stored byte breaks the chain there.
      const hash = tx.chain.link(prevHash, op.runId, seq, tx.now, EVENT_SCHEMA_VERSION, e.type, dataText);
      rows.push({
        runId: op.runId,
        seq,
        at: tx.now,
        v: EVENT_SCHEMA_VERSION,
        type: e.type,
        dataText,
        prevHash,
        hash,
      });
      events.push({
        runId: op.runId,
        seq,
        at: tx.now,
        v: EVENT_SCHEMA_VERSION,
        type: e.type,
        data: e.data,
      } as JournalEvent);
      prevHash = hash;
    }
    tails.set(op.runId, {
      seq: was.seq + rows.length,
      hash: prevHash,
      closed: was.closed || op.events.some((e) => CLOSING_EVENTS.has(e.type)),
    });
    planned.push({ runId: op.runId, expectedSeq: op.expectedSeq, rows, events });
  }
  return planned;
}

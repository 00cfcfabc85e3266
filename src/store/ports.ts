/**
 * Ports of the store. The engine speaks only these interfaces; SQLite (default), in-memory and
 * PostgreSQL adapters implement them, and one contract suite (test/contract) runs against each.
 *
 * The central operation is {@link Store.commit}: a unit of work that appends to one or more
 * journals, moves wake-up tasks, updates the runs projection, session order and dedup keys — all
 * in one transaction. Nothing (no wake-up, no progress message, no answer) is released before the
 * commit that records it.
 */
import type { AuditChain, RunHead, StoredEvent } from '../core/audit.ts';
import type { JournalEvent, NewEvent } from '../core/events.ts';
import type { RunStatus } from '../core/run-state.ts';
import type { PolicyLedger } from './ledger-port.ts';
import type { BatchStore } from './batch-port.ts';
import type { ScheduleStore } from './schedule-port.ts';
import type { DeploymentStore } from './deployment-port.ts';

/**
 * Append `events` to `runId`'s journal. `expectedSeq` is the seq the first event must get; `'tail'`
 * appends after whatever is there (used only for notifications into a run no worker holds).
 * A journal is closed after its closing event (`CLOSING_EVENTS`): a further append fails the
 * commit with `JournalClosedError`, except `AFTER_CLOSE_EVENTS` (erasure), and a `'tail'`
 * notification into a closed journal is dropped (the run ended; nobody waits for it).
 */
export interface AppendOp {
  runId: string;
  expectedSeq: number | 'tail';
  events: NewEvent[];
}

/** A wake-up: "advance run R on queue Q at time T". At most one per run. */
export interface TaskSpec {
  runId: string;
  queue: string;
  readyAt: number;
}

/** A task claimed by a worker. `fence` changes on every claim: holding it proves the lease. */
export interface ClaimedTask extends TaskSpec {
  owner: string;
  fence: number;
  leaseExpiresAt: number;
  attempts: number;
}

/** One row of the runs projection (listing runs without folding each journal). */
export interface RunRow {
  runId: string;
  actorId: string;
  sessionId: string;
  agent: string | null;
  status: RunStatus;
  parentRunId: string | null;
  createdAt: number;
  updatedAt: number;
  lastSeq: number;
  summary: string | null;
  /** The labeled agent version the run was given (store/deployment-port.ts); null/absent otherwise. */
  version?: string | null;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** One row of the approvals projection (the inbox), kept in step with the journal. */
export interface ApprovalRow {
  approvalId: string;
  runId: string;
  callId: string;
  tool: string;
  agent: string;
  args: unknown;
  argsDigest: string;
  reasons: string[];
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  approver: string | null;
  comment: string | null;
  decidedAt: number | null;
}

export interface ApprovalQuery {
  status?: ApprovalStatus;
  runId?: string;
  limit?: number;
}

export interface ApprovalsProjection {
  get(approvalId: string): Promise<ApprovalRow | null>;
  list(query: ApprovalQuery): Promise<ApprovalRow[]>;
}

/** A long-term fact about an actor, with provenance. Keyed by (actorId, namespace, key). */
export interface FactRow {
  id: string;
  actorId: string;
  /** `actor/<id>/…` style namespace under the actor, e.g. `preferences`. */
  namespace: string;
  key: string;
  value: string;
  /** Who wrote it: the library caller, an agent's `remember` call, or tool output (untrusted). */
  source: 'api' | 'agent' | 'tool';
  /** False for facts that came from tool output: they are data, never instructions. */
  trusted: boolean;
  runId: string | null;
  callId: string | null;
  createdAt: number;
  expiresAt: number | null;
}

export interface FactStore {
  /** Insert or replace the fact with the same (actorId, namespace, key). */
  put(fact: FactRow): Promise<void>;
  /** An actor's live facts (never another actor's). */
  list(actorId: string, now: number): Promise<FactRow[]>;
  deleteActor(actorId: string): Promise<number>;
  /** Delete expired facts; returns how many. */
  sweep(now: number): Promise<number>;
}

export interface SessionOp {
  /** Add the run at the end of its session's order; when it is the head, it gets a wake-up on `queue`. */
  join?: { sessionKey: string; runId: string; queue: string };
  /** Remove the run (it ended); the next run of the session gets a wake-up on the queue it joined with. */
  leave?: { sessionKey: string; runId: string };
}

export interface Commit {
  appends?: AppendOp[];
  /** The caller's lease; the commit fails with ConflictError if the lease was taken. */
  fence?: { runId: string; fence: number };
  /** Also verify that these runs' journals end at the given seq (no events appended). */
  assertSeq?: { runId: string; seq: number }[];
  /** Create or move tasks; an existing task for the run is replaced (its lease, if any, is kept only for the fence holder's own reschedule). */
  upsertTasks?: TaskSpec[];
  deleteTasks?: string[];
  projection?: RunRow[];
  /** Upsert approval rows (the inbox): a row replaces the stored one whole (erasure redacts its args). */
  approvals?: ApprovalRow[];
  /** Delete the client-message dedup keys that point at these runs (erasure). */
  dropDedup?: string[];
  session?: SessionOp;
  /** Record a client message id for dedup; fails with ConflictError if a live one exists. */
  dedup?: { key: string; runId: string; expiresAt: number };
}

export interface CommitResult {
  /** The events as journaled, per appended run, in order. */
  events: JournalEvent[];
  /** Runs that got a wake-up through session order (`leave`). */
  woken: TaskSpec[];
}

/** Listing filter for the runs projection. */
export interface RunQuery {
  actorId?: string;
  sessionId?: string;
  status?: RunStatus;
  parentRunId?: string;
  agent?: string;
  version?: string;
  /** Runs created at or after this time (ms). */
  createdAfter?: number;
  limit?: number;
}

export interface Journal {
  /** Events of a run with seq > afterSeq, in order. */
  read(runId: string, afterSeq?: number, limit?: number): Promise<JournalEvent[]>;
  /** Append in its own commit; shorthand for `commit({ appends: [...] })`. */
  append(runId: string, expectedSeq: number, events: NewEvent[]): Promise<JournalEvent[]>;
  /** Ids of every run that has a journal (projection rebuild). */
  runIds(): Promise<string[]>;
  /** Events exactly as stored, with their hash chain (audit verification). */
  readStored(runId: string): Promise<StoredEvent[]>;
  /** A run's stored head (last seq and hash, sealed), written with every append; null when none. */
  head(runId: string): Promise<RunHead | null>;
  /** Every stored head (verify --all finds runs whose events were deleted by them). */
  heads(): Promise<RunHead[]>;
  /**
   * Replace the payloads of a run's existing events (same seqs, types and times) and re-base the
   * hash chain. Only for erasure (`forget`); the redaction itself is then journaled.
   */
  rewrite(runId: string, events: readonly JournalEvent[]): Promise<void>;
}

export interface Queue {
  enqueue(task: TaskSpec): Promise<void>;
  /** Claim up to `limit` ready tasks (ready_at <= now, not leased or lease expired) of a queue. */
  claim(queue: string, owner: string, limit: number, leaseMs: number): Promise<ClaimedTask[]>;
  /** Extend a held lease; false when it was lost. */
  extend(runId: string, fence: number, leaseMs: number): Promise<boolean>;
  /** Drop the lease but keep the task (e.g. on shutdown), optionally re-timed. */
  release(runId: string, fence: number, readyAt?: number): Promise<void>;
  /** Earliest ready time of an unleased task on the queue, or of a lease expiry. */
  nextReadyAt(queue: string): Promise<number | null>;
  /** Run ids that have a task (sweeper). */
  pendingRunIds(): Promise<Set<string>>;
  /** Number of tasks on a queue (health). */
  depth(queue: string): Promise<number>;
}

export interface RunsProjection {
  get(runId: string): Promise<RunRow | null>;
  list(query: RunQuery): Promise<RunRow[]>;
  /** Active runs that are runnable: queued/running, at the head of their session (sweeper). */
  runnable(): Promise<RunRow[]>;
  /** The run a live dedup key points to. */
  dedup(key: string, now: number): Promise<string | null>;
}

/** Notifications of appends and wake-ups, in-process (and cross-process where the adapter can). */
export interface StoreListener {
  appended?(events: readonly JournalEvent[]): void;
  enqueued?(task: TaskSpec): void;
}

export interface Store {
  readonly kind: string;
  readonly journal: Journal;
  readonly queue: Queue;
  readonly runs: RunsProjection;
  readonly approvals: ApprovalsProjection;
  readonly facts: FactStore;
  /** How appends are hashed and heads sealed (`audit.key`), and how verify checks them. */
  readonly chain: AuditChain;
  /** What policies over history count, in the store's own database (store/ledger-port.ts). */
  readonly ledger: PolicyLedger;
  /** Batches of runs from JSONL and where each record is (store/batch-port.ts). */
  readonly batches: BatchStore;
  /** Schedules' paused overrides, cursors and slot records (store/schedule-port.ts). */
  readonly schedules: ScheduleStore;
  /** Agent versions, aliases, session assignments, deployments, served versions (store/deployment-port.ts). */
  readonly deployments: DeploymentStore;
  /** The store's clock: leases and ready times are judged by it, never by a worker's. */
  now(): number;
  commit(unit: Commit): Promise<CommitResult>;
  /**
   * True when an error says the store itself was unavailable (a lost connection, a rolled-back
   * transaction): the engine never counts those against a run as a poison failure.
   */
  isUnavailable?(error: unknown): boolean;
  listen(listener: StoreListener): () => void;
  close(): Promise<void>;
}

/**
 * The batch port: a batch of runs submitted from one JSONL input (`switchboard batch run`,
 * `POST /v1/batches`), recorded so that a killed driver resumes it. The batch and its records are
 * written once, in one transaction, when the batch is created; afterwards only a record's status
 * and run id move, by compare-and-set ({@link BatchStore.setRecord}), so two drivers (a rerun
 * racing a slow process, two gateway replicas) never both claim a record. The run itself is
 * deduplicated by the submit idempotency key (`batch:<batchId>:<customId>`): the store records
 * which run a record got, never whether to create one.
 *
 * Implementations: store/memory/batches.ts, store/sqlite/batches.ts, store/postgres/batches.ts.
 */
import type { ErrorData } from '../core/events.ts';

/** `running` until every record is final; `cancelled` by a caller. */
export type BatchStatus = 'running' | 'completed' | 'cancelled';
export const BATCH_STATUSES: readonly BatchStatus[] = ['running', 'completed', 'cancelled'];

/**
 * A record's progress: `pending` (no run yet), `submitted` (its run exists and was not final when
 * last seen), the run's final status, `cancelled` (the batch was cancelled before its run was
 * submitted, or its run was cancelled), or `invalid` (a malformed line or a duplicate id: no run).
 */
export type BatchRecordStatus =
  'pending' | 'submitted' | 'completed' | 'failed' | 'cancelled' | 'escalated' | 'invalid';

/** The request of one line: the rest of the line after its `id`. */
export interface BatchRequest {
  input: string;
  sessionId?: string;
  agent?: string;
  metadata?: Record<string, string>;
}

export interface BatchRow {
  batchId: string;
  /** The actor the runs are submitted as; only it (and operators) see the batch. */
  owner: string;
  /** The agent every record without its own goes to (`--agent`), or null for routing. */
  agent: string | null;
  /** Where it was submitted: `cli` or `http`. */
  origin: string;
  /** SHA-256 of the input (and what else makes the batch: output path, agent, owner). */
  inputDigest: string;
  createdAt: number;
  updatedAt: number;
  status: BatchStatus;
  /** Records (lines that were not blank), invalid ones included. */
  total: number;
}

export interface BatchRecordRow {
  batchId: string;
  /** 0-based position in the input: the output keeps this order. */
  index: number;
  customId: string;
  /** Null for an invalid record. */
  request: BatchRequest | null;
  /** Why the record is invalid; null otherwise. */
  error: ErrorData | null;
  runId: string | null;
  status: BatchRecordStatus;
}

export interface BatchStore {
  /**
   * Record a new batch with all its records, in one transaction; when `batch.batchId` exists
   * already, nothing is written and the stored batch is returned (`created: false`).
   */
  create(batch: BatchRow, records: readonly BatchRecordRow[]): Promise<{ created: boolean; batch: BatchRow }>;
  get(batchId: string): Promise<BatchRow | null>;
  /** Newest first; only `owner`'s when given. */
  list(query: { owner?: string; limit?: number }): Promise<BatchRow[]>;
  /** Records in input order, from index `from` (default 0), at most `limit`. */
  records(batchId: string, query?: { from?: number; limit?: number }): Promise<BatchRecordRow[]>;
  /** How many records are in each status. */
  counts(batchId: string): Promise<Partial<Record<BatchRecordStatus, number>>>;
  /**
   * Move a record to `status` (and set its run id or error when given) only if it is in one of `from`;
   * false when it was not (another driver, or a cancel, moved it first).
   */
  setRecord(
    batchId: string,
    index: number,
    to: { status: BatchRecordStatus; runId?: string; error?: ErrorData },
    from: readonly BatchRecordStatus[],
  ): Promise<boolean>;
  /** Set the batch's status (and `updatedAt`) only if it is in one of `from`; false otherwise. */
  setStatus(
    batchId: string,
    status: BatchStatus,
    now: number,
    from: readonly BatchStatus[],
  ): Promise<boolean>;
}

/** A row of `batches` or `batch_records` as the SQL adapters read it. */
export type BatchSqlRow = Record<string, string | number | null>;

/**
 * The column mapping both SQL adapters share; `text` reads a column a caller wrote (owner, custom
 * id), which PostgreSQL stores escaped (store/postgres/text.ts) and SQLite as is.
 */
export function batchOfRow(r: BatchSqlRow, text: (v: string) => string = (v) => v): BatchRow {
  return {
    batchId: String(r.batch_id),
    owner: text(String(r.owner)),
    agent: r.agent === null ? null : String(r.agent),
    origin: String(r.origin),
    inputDigest: String(r.input_digest),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    status: String(r.status) as BatchStatus,
    total: Number(r.total),
  };
}

/** A `batch_records` row; `text` as for {@link batchOfRow}. */
export function recordOfRow(r: BatchSqlRow, text: (v: string) => string = (v) => v): BatchRecordRow {
  return {
    batchId: String(r.batch_id),
    index: Number(r.idx),
    customId: text(String(r.custom_id)),
    request: r.request === null ? null : (JSON.parse(String(r.request)) as BatchRequest),
    error: r.error === null ? null : (JSON.parse(String(r.error)) as ErrorData),
    runId: r.run_id === null ? null : String(r.run_id),
    status: String(r.status) as BatchRecordStatus,
  };
}

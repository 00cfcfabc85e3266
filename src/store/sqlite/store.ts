/**
 * The embedded store on `node:sqlite`: one file, WAL mode, `synchronous=FULL` so a committed step
 * survives power loss. Commits requested in the same turn of the event loop share one transaction
 * (group commit); each unit runs in its own savepoint so one conflict never fails its neighbours.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { StoreClosedError } from '../../core/errors.ts';
import type { JournalEvent } from '../../core/events.ts';
import {
  auditChain,
  GENESIS_HASH,
  type AuditChain,
  type AuditKeys,
  type RunHead,
  type StoredEvent,
} from '../../core/audit.ts';
import { systemClock, type Clock } from '../clock.ts';
import { Listeners } from '../listeners.ts';
import type { PolicyLedger } from '../ledger-port.ts';
import { createSqliteLedger } from './ledger.ts';
import type { BatchStore } from '../batch-port.ts';
import type { ScheduleStore } from '../schedule-port.ts';
import { createSqliteBatches } from './batches.ts';
import { createSqliteSchedules } from './schedules.ts';
import type { DeploymentStore } from '../deployment-port.ts';
import { createSqliteDeployments } from './deployments.ts';
import type {
  FactStore,
  ApprovalsProjection,
  Commit,
  CommitResult,
  Journal,
  Queue,
  RunQuery,
  RunRow,
  RunsProjection,
  Store,
  StoreListener,
  TaskSpec,
} from '../ports.ts';
import { migrate } from './schema.ts';
import { applyCommitSync } from '../commit.ts';
import { putHead, sqliteCommitTx } from './commit-tx.ts';
import { sqliteQueue } from './queue.ts';
import { storedText } from '../text.ts';
import { listRuns, sqliteApprovals, sqliteFacts, str, toRunRow } from './projections.ts';

export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a private in-memory database. */
  path: string;
  /** `FULL` (default) fsyncs every commit; `NORMAL` may lose the last commits on power loss. */
  synchronous?: 'FULL' | 'NORMAL';
  clock?: Clock;
  /** How long a writer waits for another process's lock, in ms. */
  busyTimeoutMs?: number;
  /** Audit keys: the journal's hashes and heads are HMACs with `key` (default: unkeyed SHA-256). */
  audit?: AuditKeys;
}

interface Pending {
  unit: Commit;
  resolve: (result: CommitResult) => void;
  reject: (error: unknown) => void;
}

type Row = Record<string, SQLInputValue>;

/** Open (creating and migrating if needed) an embedded SQLite store. */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly journal: Journal;
  readonly queue: Queue;
  readonly runs: RunsProjection;
  readonly approvals: ApprovalsProjection;
  readonly facts: FactStore;
  readonly chain: AuditChain;
  readonly ledger: PolicyLedger;
  readonly batches: BatchStore;
  readonly schedules: ScheduleStore;
  readonly deployments: DeploymentStore;
  readonly db: DatabaseSync;
  readonly #clock: Clock;
  readonly #listeners = new Listeners();
  readonly #statements = new Map<string, StatementSync>();
  #pending: Pending[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #synchronous: 'FULL' | 'NORMAL';

  constructor(options: SqliteStoreOptions) {
    this.#clock = options.clock ?? systemClock;
    this.chain = auditChain(options.audit);
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new DatabaseSync(options.path);
    this.db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.#synchronous = options.synchronous ?? 'FULL';
    this.db.exec(`PRAGMA synchronous = ${this.#synchronous}`);
    this.db.exec('PRAGMA foreign_keys = ON');
    migrate(this.db, this.#clock.now());
    this.ledger = createSqliteLedger(this.db);
    this.batches = createSqliteBatches(this.db);
    this.schedules = createSqliteSchedules(this.db);
    this.deployments = createSqliteDeployments(this.db);
    this.journal = {
      read: async (runId, afterSeq = 0, limit = -1) => this.readEvents(runId, afterSeq, limit),
      append: async (runId, expectedSeq, events) =>
        (await this.commit({ appends: [{ runId, expectedSeq, events }] })).events,
      readStored: async (runId) =>
        (
          this.#stmt(
            'SELECT run_id, seq, at, v, type, data, prev_hash, hash FROM events WHERE run_id = ? ORDER BY seq',
          ).all(runId) as Row[]
        ).map((r): StoredEvent => ({
          runId: str(r.run_id),
          seq: Number(r.seq),
          at: Number(r.at),
          v: Number(r.v),
          type: str(r.type),
          dataText: str(r.data),
          prevHash: str(r.prev_hash ?? ''),
          hash: str(r.hash ?? ''),
        })),
      rewrite: async (runId, events) => this.#rewrite(runId, events),
      head: async (runId) => {
        const r = this.#stmt('SELECT run_id, seq, hash, seal FROM run_heads WHERE run_id = ?').get(runId) as
          Row | undefined;
        return r ? toHead(r) : null;
      },
      heads: async () =>
        (this.#stmt('SELECT run_id, seq, hash, seal FROM run_heads ORDER BY run_id').all() as Row[]).map(
          toHead,
        ),
      runIds: async () =>
        (this.#stmt('SELECT DISTINCT run_id FROM events').all() as { run_id: string }[]).map((r) => r.run_id),
    };
    this.queue = sqliteQueue({
      db: this.db,
      stmt: (sql) => this.#stmt(sql),
      now: () => this.now(),
      synchronous: this.#synchronous,
      enqueue: async (task) => {
        await this.commit({ upsertTasks: [task] });
      },
    });
    this.approvals = sqliteApprovals((sql) => this.#stmt(sql));
    this.facts = sqliteFacts((sql) => this.#stmt(sql));
    this.runs = {
      get: async (runId) => {
        const row = this.#stmt('SELECT * FROM runs WHERE run_id = ?').get(runId) as Row | undefined;
        return row ? toRunRow(row) : null;
      },
      list: async (query) => this.#listRuns(query),
      runnable: async () => {
        const rows = this.#stmt(
          `SELECT r.* FROM runs r WHERE r.status IN ('queued', 'running') AND NOT EXISTS (
             SELECT 1 FROM session_runs s JOIN session_runs h ON h.session_key = s.session_key AND h.pos < s.pos
             WHERE s.run_id = r.run_id)`,
        ).all() as Row[];
        return rows.map(toRunRow);
      },
      dedup: async (key, now) => {
        const row = this.#stmt('SELECT run_id FROM dedup WHERE key = ? AND expires_at > ?').get(
          storedText(key),
          now,
        ) as { run_id: string } | undefined;
        return row?.run_id ?? null;
      },
    };
  }

  now(): number {
    return this.#clock.now();
  }

  /** SQLITE_BUSY / SQLITE_LOCKED past the busy timeout: another writer held the file. */
  isUnavailable(error: unknown): boolean {
    const code = (error as { errcode?: unknown } | null)?.errcode;
    return code === 5 || code === 6;
  }

  #rewrite(runId: string, events: readonly JournalEvent[]): void {
    const update = this.#stmt(
      'UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE run_id = ? AND seq = ?',
    );
    this.db.exec('BEGIN IMMEDIATE');
    try {
      let prev = GENESIS_HASH;
      for (const e of events) {
        const text = JSON.stringify(e.data);
        const hash = this.chain.link(prev, runId, e.seq, e.at, e.v, e.type, text);
        update.run(text, prev, hash, runId, e.seq);
        prev = hash;
      }
      const last = events.at(-1);
      if (last) putHead((sql) => this.#stmt(sql), this.chain, runId, last.seq, prev);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Reclaim space and rewrite the file without deleted pages (erasure leaves no readable trace). */
  compact(): void {
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.db.exec('VACUUM');
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  listen(listener: StoreListener): () => void {
    return this.#listeners.add(listener);
  }

  commit(unit: Commit): Promise<CommitResult> {
    if (this.#closed) return Promise.reject(new StoreClosedError());
    return new Promise((resolve, reject) => {
      this.#pending.push({ unit, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // Group commit: every unit requested before the next macrotask shares one fsync.
        setImmediate(() => this.#flush());
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#pending.length > 0) this.#flush();
    this.#closed = true;
    this.db.close();
  }

  readEvents(runId: string, afterSeq: number, limit: number): JournalEvent[] {
    const rows = this.#stmt(
      'SELECT run_id, seq, at, v, type, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ).all(runId, afterSeq, limit) as {
      run_id: string;
      seq: number;
      at: number;
      v: number;
      type: string;
      data: string;
    }[];
    return rows.map(
      (r) =>
        ({
          runId: r.run_id,
          seq: r.seq,
          at: r.at,
          v: r.v,
          type: r.type,
          data: JSON.parse(r.data) as unknown,
        }) as JournalEvent,
    );
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const settled: { p: Pending; result?: CommitResult; error?: unknown }[] = [];
    const enqueued: TaskSpec[] = [];
    const only = batch.length === 1 ? batch[0] : undefined;
    try {
      this.#stmt('BEGIN IMMEDIATE').run();
      if (only) {
        // One unit: the transaction itself is its savepoint.
        try {
          settled.push({ p: only, result: this.#apply(only.unit, enqueued) });
        } catch (error) {
          this.#stmt('ROLLBACK').run();
          only.reject(error);
          return;
        }
      } else {
        for (const p of batch) {
          this.#stmt('SAVEPOINT unit').run();
          try {
            const result = this.#apply(p.unit, enqueued);
            this.#stmt('RELEASE unit').run();
            settled.push({ p, result });
          } catch (error) {
            this.#stmt('ROLLBACK TO unit').run();
            this.#stmt('RELEASE unit').run();
            settled.push({ p, error });
          }
        }
      }
      // The durability point: nothing below is released before this returns.
      this.#stmt('COMMIT').run();
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      for (const p of batch) p.reject(error);
      return;
    }
    const appended: JournalEvent[] = [];
    for (const s of settled) if (s.result) appended.push(...s.result.events);
    this.#listeners.appended(appended);
    this.#listeners.enqueued(enqueued);
    for (const s of settled) {
      if (s.result) s.p.resolve(s.result);
      else s.p.reject(s.error);
    }
  }

  /** One unit through the shared commit algorithm (../commit.ts); its wake-ups join the batch's. */
  #apply(unit: Commit, enqueued: TaskSpec[]): CommitResult {
    const {
      events,
      woken,
      enqueued: moved,
    } = applyCommitSync(
      unit,
      sqliteCommitTx((sql) => this.#stmt(sql), this.chain, this.now()),
    );
    enqueued.push(...moved);
    return { events, woken };
  }

  #listRuns(q: RunQuery): RunRow[] {
    return listRuns((sql) => this.#stmt(sql), q);
  }
}

function toHead(r: Row): RunHead {
  return { runId: str(r.run_id), seq: Number(r.seq), hash: str(r.hash), seal: str(r.seal) };
}

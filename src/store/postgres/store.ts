/**
 * The scale-out store on PostgreSQL (pure-JS `pg`): the same semantics as the SQLite adapter, and
 * the same contract suite, for many gateway and worker processes sharing one database.
 *
 * - Every unit of work is one transaction on a pooled connection. SQLite's group commit exists to
 *   share one fsync between units of one process; PostgreSQL already does that across connections
 *   (WAL group flush), so units run side by side instead of queueing behind each other.
 * - Fencing: a commit carrying a fence locks the run's task row (`FOR UPDATE`) before comparing,
 *   so a concurrent claim either happened before (the fence differs: refused) or waits for us.
 * - Wake-ups: the `tasks` table is the lease authority; pg-boss carries deliveries across
 *   processes (see wakeups.ts). Appends are announced with LISTEN/NOTIFY (see notify.ts).
 * - A lost connection is retried with backoff wherever a retry cannot double an effect: reads,
 *   claims, lease moves, and commits that failed before COMMIT was sent. A commit whose COMMIT
 *   itself was cut off is ambiguous and surfaces as an error; the journal then says what happened.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CommitUnknownError, ConfigError, StoreClosedError } from '../../core/errors.ts';
import { seqTaken } from '../conflicts.ts';
import { auditChain, type AuditChain, type AuditKeys } from '../../core/audit.ts';
import { pgAuditJournal } from './audit.ts';
import type { JournalEvent } from '../../core/events.ts';
import { systemClock, type Clock } from '../clock.ts';
import { Listeners } from '../listeners.ts';
import type { PolicyLedger } from '../ledger-port.ts';
import { createPostgresLedger } from './ledger.ts';
import type { BatchStore } from '../batch-port.ts';
import { createPostgresBatches } from './batches.ts';
import { createPostgresSchedules } from './schedules.ts';
import type { DeploymentStore } from '../deployment-port.ts';
import { createPostgresDeployments } from './deployments.ts';
import type {
  ApprovalsProjection,
  FactStore,
  ClaimedTask,
  Commit,
  CommitResult,
  Journal,
  Queue,
  RunsProjection,
  Store,
  StoreListener,
} from '../ports.ts';
import {
  backoffMs,
  DEFAULT_RETRY,
  isConnectionError,
  isTransientTxError,
  sleep,
  type RetryPolicy,
} from './errors.ts';
import { NoticeListener, noticePayloads, type AppendNotice } from './notify.ts';
import { ident, migratePg } from './schema.ts';
import { BossWakeups } from './wakeups.ts';
import { pgApprovals, pgFacts, pgRuns, toEvent, type EventRow } from './projections.ts';
import { pgCommitTx } from './writes.ts';
import { applyCommitAsync, type Applied } from '../commit.ts';
import { fromPgText, impossibleId, pgText, SeqRace } from './text.ts';

export { fromPgText, pgText };

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db` */
  url: string;
  /** Schema holding every table (default `switchboard`); several systems can share a database. */
  schema?: string;
  /** pg-boss's schema (default `<schema>_boss`). */
  bossSchema?: string;
  clock?: Clock;
  /** Connections in this process's pool (default 10). */
  poolSize?: number;
  /** Deliver wake-ups across processes on pg-boss (default true). */
  wakeups?: boolean;
  /** Announce appends across processes with LISTEN/NOTIFY (default true). */
  notify?: boolean;
  /** Retries of a lost connection. */
  retry?: Partial<RetryPolicy>;
  /** `application_name` of every connection, so operators can find them (default `switchboard`). */
  applicationName?: string;
  /** Background errors (a dropped listener, pg-boss); the store keeps going. */
  onError?: (error: unknown) => void;
  /** Audit keys: the journal's hashes and heads are HMACs with `key` (default: unkeyed SHA-256). */
  audit?: AuditKeys;
}

/** Readiness of a store: the database answered, and cross-process notifications are connected. */
export interface PostgresHealth {
  ok: boolean;
  database: boolean;
  notifications: boolean;
  error?: string;
}

type Int = number;

// int8 (bigint) columns hold ms timestamps and fences, all far below 2^53: parse them as numbers.
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === 20
      ? (v: string) => Number(v)
      : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

/**
 * Create a PostgreSQL store. It connects and migrates lazily: the first operation (or
 * {@link PostgresStore.ready}) runs pending migrations and starts pg-boss and the listener.
 * @example
 * const store = createPostgresStore({ url: process.env.SWITCHBOARD_DATABASE_URL!, schema: 'shop' });
 * await store.ready();
 * const system = createSystem({ agents, model, store });
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(options);
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly journal: Journal;
  readonly queue: Queue;
  readonly runs: RunsProjection;
  readonly approvals: ApprovalsProjection;
  readonly facts: FactStore;
  readonly chain: AuditChain;
  readonly ledger: PolicyLedger;
  readonly batches: BatchStore;
  readonly schedules: ReturnType<typeof createPostgresSchedules>;
  readonly deployments: DeploymentStore;
  readonly schema: string;
  readonly pool: pg.Pool;
  /** Identifies this process's store in notifications: its own appends were already announced locally. */
  readonly origin = randomBytes(6).toString('hex');
  readonly #s: string;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #listeners = new Listeners();
  readonly #channel: string;
  readonly #wakeups: BossWakeups | null;
  readonly #notices: NoticeListener | null;
  readonly #onError: (error: unknown) => void;
  #appendListeners = 0;
  #init: Promise<void> | null = null;
  #closed = false;
  #notificationsUp = false;

  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? 'switchboard';
    if (!/^[A-Za-z_][\w]{0,40}$/.test(this.schema))
      throw new ConfigError('schema', `"${this.schema}" must be a plain identifier of at most 41 characters`);
    this.#s = ident(this.schema);
    this.chain = auditChain(options.audit);
    this.#clock = options.clock ?? systemClock;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#onError = options.onError ?? ((e) => console.error('[switchboard:postgres]', e));
    this.#channel = `switchboard_${this.schema}`;
    const app = options.applicationName ?? 'switchboard';
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: app,
      connectionTimeoutMillis: 10_000,
      types: TYPES,
    });
    // An idle connection that dies (terminated backend) is reported here; unhandled it would crash.
    this.pool.on('error', (error) => this.#onError(error));
    this.ledger = createPostgresLedger(this.pool, this.#s, () => this.ready());
    this.batches = createPostgresBatches(this.pool, this.#s, () => this.ready());
    this.schedules = createPostgresSchedules(this.pool, this.#s, () => this.ready());
    this.deployments = createPostgresDeployments(this.pool, this.#s, () => this.ready());
    this.#wakeups =
      options.wakeups === false
        ? null
        : new BossWakeups({
            url: options.url,
            schema: options.bossSchema ?? `${this.schema}_boss`,
            applicationName: `${app}-boss`,
            onError: (error) => this.#onError(error),
            onDelivered: (task) => this.#listeners.enqueued([task]),
          });
    this.#notices =
      options.notify === false
        ? null
        : new NoticeListener({
            url: options.url,
            channel: this.#channel,
            applicationName: `${app}-listen`,
            onNotice: (n) => this.#onNotice(n),
            onState: (up) => {
              this.#notificationsUp = up;
            },
            onError: (error) => this.#onError(error),
          });

    this.journal = {
      read: async (runId, afterSeq = 0, limit = -1) => this.readEvents(runId, afterSeq, limit),
      append: async (runId, expectedSeq, events) =>
        (await this.commit({ appends: [{ runId, expectedSeq, events }] })).events,
      ...pgAuditJournal({
        query: (sql, params) => this.#query(sql, params),
        connect: async () => {
          await this.ready();
          return this.pool.connect();
        },
        s: this.#s,
        chain: this.chain,
      }),
      runIds: async () =>
        (await this.#query<{ run_id: string }>(`SELECT DISTINCT run_id FROM ${this.#s}.events`)).map(
          (r) => r.run_id,
        ),
    };
    const query = <R extends object>(sql: string, params: unknown[] = []): Promise<R[]> =>
      this.#query<R>(sql, params);
    this.facts = pgFacts(query, this.#s);
    this.approvals = pgApprovals(query, this.#s);
    this.queue = {
      enqueue: async (task) => {
        await this.commit({ upsertTasks: [task] });
      },
      claim: async (queue, owner, limit, leaseMs) => this.#claim(queue, owner, limit, leaseMs),
      extend: async (runId, fence, leaseMs) =>
        (
          await this.#query(
            `UPDATE ${this.#s}.tasks SET lease_expires = $1 WHERE run_id = $2 AND fence = $3 AND lease_owner IS NOT NULL RETURNING 1`,
            [this.now() + leaseMs, runId, fence],
          )
        ).length === 1,
      release: async (runId, fence, readyAt) => {
        const rows = await this.#query<{ queue: string; ready_at: Int }>(
          `UPDATE ${this.#s}.tasks SET lease_owner = NULL, lease_expires = NULL, ready_at = coalesce($1, ready_at)
           WHERE run_id = $2 AND fence = $3 RETURNING queue, ready_at`,
          [readyAt ?? null, runId, fence],
        );
        // Tell the other processes too: the released run may be theirs to pick up.
        const row = rows[0];
        if (row && this.#wakeups) {
          const task = { runId, queue: row.queue, readyAt: row.ready_at };
          await this.#withClient(async (c) => this.#wakeups?.send(c, [task])).catch((e: unknown) =>
            this.#onError(e),
          );
        }
      },
      nextReadyAt: async (queue) => {
        const rows = await this.#query<{ t: Int | null }>(
          `SELECT min(CASE WHEN lease_owner IS NULL THEN ready_at ELSE greatest(ready_at, lease_expires) END) AS t
           FROM ${this.#s}.tasks WHERE queue = $1`,
          [queue],
        );
        return rows[0]?.t ?? null;
      },
      pendingRunIds: async () =>
        new Set(
          (await this.#query<{ run_id: string }>(`SELECT run_id FROM ${this.#s}.tasks`)).map((r) => r.run_id),
        ),
      depth: async (queue) =>
        (
          await this.#query<{ n: Int }>(`SELECT count(*)::int AS n FROM ${this.#s}.tasks WHERE queue = $1`, [
            queue,
          ])
        )[0]?.n ?? 0,
    };
    this.runs = pgRuns(query, this.#s);
  }

  now(): number {
    return this.#clock.now();
  }

  isUnavailable(error: unknown): boolean {
    return isConnectionError(error) || isTransientTxError(error);
  }

  /** Connect, run pending migrations, start pg-boss and the listener. Safe to call repeatedly. */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreClosedError());
    this.#init ??= this.#start().catch((error: unknown) => {
      // Let the next caller try again (the database may come back).
      this.#init = null;
      throw error;
    });
    return this.#init;
  }

  /** Run pending migrations only; returns the versions applied (`switchboard migrate`). */
  async migrate(): Promise<number[]> {
    return this.#withClient((c) => migratePg(c, this.schema, this.now()));
  }

  /** Readiness for a load balancer: the database answers and notifications are connected. */
  async health(): Promise<PostgresHealth> {
    try {
      await this.ready();
      await this.pool.query('SELECT 1');
      const notifications = this.#notices === null || this.#notificationsUp;
      return { ok: notifications, database: true, notifications };
    } catch (error) {
      return {
        ok: false,
        database: false,
        notifications: this.#notificationsUp,
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }

  listen(listener: StoreListener): () => void {
    const counts = listener.appended !== undefined;
    if (counts) this.#appendListeners++;
    const remove = this.#listeners.add(listener);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      if (counts) this.#appendListeners--;
      remove();
    };
  }

  async commit(unit: Commit): Promise<CommitResult> {
    if (this.#closed) throw new StoreClosedError();
    await this.ready();
    const { events, woken, enqueued } = await this.#transaction(unit, (c) => this.#apply(c, unit));
    this.#listeners.appended(events);
    this.#listeners.enqueued(enqueued);
    return { events, woken };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#init?.catch(() => {});
    await Promise.allSettled([this.#wakeups?.stop(), this.#notices?.close()]);
    await this.pool.end();
  }

  async readEvents(runId: string, afterSeq: number, limit: number): Promise<JournalEvent[]> {
    if (impossibleId(runId)) return [];
    const rows = await this.#query<EventRow>(
      `SELECT run_id, seq, at, v, type, data FROM ${this.#s}.events WHERE run_id = $1 AND seq > $2 ORDER BY seq
       ${limit >= 0 ? 'LIMIT $3' : ''}`,
      limit >= 0 ? [runId, afterSeq, limit] : [runId, afterSeq],
    );
    return rows.map(toEvent);
  }

  async #start(): Promise<void> {
    await this.migrate();
    await this.#wakeups?.start();
    await this.#notices?.start();
  }

  /** A query that is safe to repeat (a read or an idempotent write), retried on a lost connection. */
  async #query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    await this.ready();
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.pool.query<R & pg.QueryResultRow>(sql, params)).rows;
      } catch (error) {
        if (!isConnectionError(error) || attempt + 1 >= this.#retry.attempts || this.#closed) throw error;
        await sleep(backoffMs(this.#retry, attempt));
      }
    }
  }

  /**
   * Check a connection out of the pool. While it is out, a backend terminated between statements
   * emits 'error' on the client; unhandled, that would kill the process, so it is recorded and the
   * next statement on the client fails with it (and the connection is discarded on check-in).
   */
  async #checkout(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    client.on('error', onCheckedOutError);
    return client;
  }

  #checkin(client: pg.PoolClient, discard = false): void {
    client.off('error', onCheckedOutError);
    client.release(discard);
  }

  async #withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient | null = null;
      try {
        client = await this.#checkout();
        const result = await fn(client);
        this.#checkin(client);
        return result;
      } catch (error) {
        if (client) this.#checkin(client, isConnectionError(error));
        if (!isConnectionError(error) || attempt + 1 >= this.#retry.attempts || this.#closed) throw error;
        await sleep(backoffMs(this.#retry, attempt));
      }
    }
  }

  /**
   * Run `fn` in a transaction. Deadlocks, serialization failures, and connections lost before COMMIT
   * was sent roll back entirely, so the unit runs again; a race for a seq is a ConflictError.
   */
  async #transaction<T>(unit: Commit, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient | null = null;
      let committing = false;
      try {
        client = await this.#checkout();
        await client.query('BEGIN');
        const result = await fn(client);
        committing = true;
        await client.query('COMMIT');
        this.#checkin(client);
        return result;
      } catch (error) {
        const lostConnection = isConnectionError(error);
        if (client) {
          if (!lostConnection && !committing) await client.query('ROLLBACK').catch(() => {});
          this.#checkin(client, lostConnection || committing);
        }
        const again = attempt + 1 < this.#retry.attempts && !this.#closed;
        if (error instanceof SeqRace) {
          // Lost the race for a seq: a 'tail' append just goes after the winner; any other is a conflict.
          if (error.expectedSeq === 'tail' && again) continue;
          throw seqTaken(error.runId, error.expectedSeq === 'tail' ? undefined : error.expectedSeq);
        }
        if (isTransientTxError(error) && again) {
          await sleep(backoffMs(this.#retry, Math.min(attempt, 3)));
          continue;
        }
        // Cut off before COMMIT: nothing was applied, so running the unit again doubles nothing.
        if (lostConnection && !committing && again) {
          await sleep(backoffMs(this.#retry, attempt));
          continue;
        }
        if (committing && lostConnection) {
          throw new CommitUnknownError(describe(unit), error);
        }
        throw error;
      }
    }
  }

  /** One unit through the shared commit algorithm (../commit.ts), on the transaction's connection. */
  async #apply(c: pg.PoolClient, unit: Commit): Promise<Applied> {
    const appendRuns = unit.fence ? [...new Set((unit.appends ?? []).map((a) => a.runId))] : [];
    const tx = pgCommitTx(c, this.#s, this.schema, this.chain, this.now(), appendRuns);
    const applied = await applyCommitAsync(unit, tx);
    // Deliveries and notices ride in the transaction: PostgreSQL releases them only on COMMIT.
    if (applied.enqueued.length > 0 && this.#wakeups) await this.#wakeups.send(c, applied.enqueued);
    // The held-back writes and the append notices go in one statement.
    const notices = applied.events.length > 0 && this.#notices ? this.#noticesOf(applied.events) : [];
    await tx.flush(this.#channel, notices);
    return applied;
  }

  #noticesOf(events: JournalEvent[]): string[] {
    const ranges = new Map<string, [string, number, number]>();
    for (const e of events) {
      const r = ranges.get(e.runId);
      if (r) r[2] = e.seq;
      else ranges.set(e.runId, [e.runId, e.seq, e.seq]);
    }
    return noticePayloads(this.origin, [...ranges.values()]);
  }

  /** Another process appended: read what it appended (the journal is the truth) and fan it out. */
  #onNotice(n: AppendNotice): void {
    if (n.o === this.origin || this.#appendListeners === 0 || this.#closed) return;
    const runIds = n.a.map((r) => r[0]);
    const from = n.a.map((r) => r[1]);
    const to = n.a.map((r) => r[2]);
    this.#query<EventRow>(
      `SELECT e.run_id, e.seq, e.at, e.v, e.type, e.data
       FROM unnest($1::text[], $2::int[], $3::int[]) AS n(run_id, f, t)
       JOIN ${this.#s}.events e ON e.run_id = n.run_id AND e.seq BETWEEN n.f AND n.t
       ORDER BY e.run_id, e.seq`,
      [runIds, from, to],
    ).then(
      (rows) => this.#listeners.appended(rows.map(toEvent)),
      (error: unknown) => this.#onError(error),
    );
  }

  async #claim(queue: string, owner: string, limit: number, leaseMs: number): Promise<ClaimedTask[]> {
    if (limit <= 0) return [];
    // This process serves the queue: receive its deliveries from now on.
    this.#wakeups?.subscribe(queue).catch((error: unknown) => this.#onError(error));
    const now = this.now();
    const expires = now + leaseMs;
    // SKIP LOCKED: claimers never wait on each other, and a row locked by a fenced commit is skipped.
    const rows = await this.#query<{ run_id: string; ready_at: Int; fence: Int; attempts: Int }>(
      `WITH ready AS (
         SELECT run_id FROM ${this.#s}.tasks
         WHERE queue = $1 AND ready_at <= $2 AND (lease_owner IS NULL OR lease_expires <= $2)
         ORDER BY ready_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       UPDATE ${this.#s}.tasks t SET lease_owner = $4, lease_expires = $5,
         fence = nextval('${this.#s}.fence_seq'), attempts = t.attempts + 1
       FROM ready WHERE t.run_id = ready.run_id
       RETURNING t.run_id, t.ready_at, t.fence, t.attempts`,
      [queue, now, limit, owner, expires],
    );
    return rows
      .sort((a, b) => a.ready_at - b.ready_at)
      .map((r) => ({
        runId: r.run_id,
        queue,
        readyAt: r.ready_at,
        owner,
        fence: r.fence,
        leaseExpiresAt: expires,
        attempts: r.attempts,
      }));
  }
}

/** A checked-out connection's asynchronous error: the failing statement reports it too. */
function onCheckedOutError(): void {}

/** A short description of a unit for error reports. */
function describe(unit: Commit): string {
  const parts = (unit.appends ?? []).map((a) => `${a.runId}@${a.expectedSeq}+${a.events.length}`);
  return parts.join(',') || 'no appends';
}

/**
 * The business database on PostgreSQL: its own schema, reached through a pool whose connections
 * have `search_path` set to it, so the tools' SQL needs no schema prefix. Created and seeded once
 * under an advisory lock; writes serialise on the same lock, as SQLite's single writer does.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import {
  type BusinessDb,
  type BusinessTx,
  type OpenPostgresBusinessDbOptions,
  type Row,
  type SqlParam,
  businessClock,
  DEFAULT_SEED,
  schemaSql,
  seedRows,
  storable,
} from './db.ts';

/** BIGINT (`count(*)`, `sum()` of integers) and NUMERIC come back as numbers, as SQLite gives them. */
const NUMERIC_OIDS = new Set([20, 1700]);
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    NUMERIC_OIDS.has(oid)
      ? (v: string) => Number(v)
      : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const positional = new Map<string, string>();
/**
 * `?` placeholders to `$1…$n`, leaving `?` inside string literals, quoted identifiers and comments
 * alone (`''` and `""` escapes included).
 */
export function toPositional(sql: string): string {
  const cached = positional.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const end = closing(sql, i, c);
      out += sql.slice(i, end);
      i = end - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      out += sql.slice(i, end === -1 ? sql.length : end);
      i = (end === -1 ? sql.length : end) - 1;
    } else out += c === '?' ? `$${++n}` : c;
  }
  positional.set(sql, out);
  return out;
}

/** Index just past the quote that closes the one at `start` (a doubled quote is an escape). */
function closing(sql: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const next = sql.indexOf(quote, i);
    if (next === -1) return sql.length;
    if (sql[next + 1] !== quote) return next + 1;
    i = next + 2;
  }
}

/** The advisory lock that both the seeding and every write transaction take. */
const lockName = (schema: string): string => `switchboard-business:${schema}`;
const LOCK_SQL = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))';

const queriesOn = (client: pg.Pool | pg.PoolClient): BusinessTx => ({
  get: async <T = Row>(sql: string, ...params: SqlParam[]) =>
    (await client.query(toPositional(sql), storable(params))).rows[0] as T | undefined,
  all: async <T = Row>(sql: string, ...params: SqlParam[]) =>
    (await client.query(toPositional(sql), storable(params))).rows as T[],
  run: async (sql: string, ...params: SqlParam[]) => ({
    changes: (await client.query(toPositional(sql), storable(params))).rowCount ?? 0,
  }),
});

/**
 * Runs inside a worker thread: one connection that answers single-row queries while the main thread
 * waits on `Atomics.wait`. The answer is JSON in a shared buffer; `state[0]` flips to 1 when it is there.
 */
const SYNC_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const pg = require(workerData.pg);
for (const oid of [20, 1700]) pg.types.setTypeParser(oid, Number);
const { state, buffer } = workerData;
const client = new pg.Client({ connectionString: workerData.url, options: workerData.options });
client.on('error', () => {});
const ready = client.connect();
parentPort.on('message', async ({ sql, params }) => {
  let out;
  try {
    await ready;
    out = JSON.stringify({ row: (await client.query(sql, params)).rows[0] ?? null });
  } catch (e) {
    out = JSON.stringify({ error: String((e && e.message) || e) });
  }
  let bytes = Buffer.from(out);
  if (bytes.length > buffer.byteLength) bytes = Buffer.from(JSON.stringify({ error: 'row too large' }));
  new Uint8Array(buffer).set(bytes);
  Atomics.store(state, 1, bytes.length);
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
});
`;
const SYNC_TIMEOUT_MS = 10_000;

/** Synchronous single-row reads over a connection of their own, in a worker thread. */
class SyncReader {
  readonly #worker: Worker;
  readonly #state = new Int32Array(new SharedArrayBuffer(8));
  readonly #buffer = new SharedArrayBuffer(64 * 1024);
  #broken: string | null = null;

  constructor(url: string, connectionOptions: string) {
    const driver = createRequire(import.meta.url).resolve('pg');
    this.#worker = new Worker(SYNC_WORKER, {
      eval: true,
      workerData: { pg: driver, url, options: connectionOptions, state: this.#state, buffer: this.#buffer },
    });
    // It must not keep the process alive, and its failure is reported by the next read.
    this.#worker.unref();
    this.#worker.on('error', (error: Error) => {
      this.#broken = error.message;
    });
  }

  get<T>(sql: string, params: SqlParam[]): T | undefined {
    if (this.#broken) throw new Error(`synchronous reader failed: ${this.#broken}`);
    Atomics.store(this.#state, 0, 0);
    this.#worker.postMessage({ sql, params });
    if (Atomics.wait(this.#state, 0, 0, SYNC_TIMEOUT_MS) === 'timed-out') {
      // A late answer would be taken for the next query's: this reader is done.
      this.#broken = 'timed out';
      void this.#worker.terminate();
      throw new Error(`synchronous read timed out after ${SYNC_TIMEOUT_MS} ms`);
    }
    const length = Atomics.load(this.#state, 1);
    const answer = JSON.parse(Buffer.from(new Uint8Array(this.#buffer, 0, length)).toString()) as {
      row?: T | null;
      error?: string;
    };
    if (answer.error !== undefined) throw new Error(answer.error);
    return answer.row ?? undefined;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

class PostgresBusinessDb implements BusinessDb {
  readonly kind = 'postgres' as const;
  readonly path: string;
  readonly now: () => Date;
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #url: string;
  readonly #connectionOptions: string;
  #sync: SyncReader | null = null;
  readonly #queries: BusinessTx;

  constructor(pool: pg.Pool, schema: string, url: string, connectionOptions: string, now: () => Date) {
    this.#pool = pool;
    this.#schema = schema;
    this.#url = url;
    this.#connectionOptions = connectionOptions;
    this.path = `postgres:${schema}`;
    this.now = now;
    this.#queries = queriesOn(pool);
  }

  get<T = Row>(sql: string, ...params: SqlParam[]): Promise<T | undefined> {
    return this.#queries.get<T>(sql, ...params);
  }

  all<T = Row>(sql: string, ...params: SqlParam[]): Promise<T[]> {
    return this.#queries.all<T>(sql, ...params);
  }

  run(sql: string, ...params: SqlParam[]): Promise<{ changes: number }> {
    return this.#queries.run(sql, ...params);
  }

  getSync<T = Row>(sql: string, ...params: SqlParam[]): T | undefined {
    // Started on first use: most processes never need it.
    this.#sync ??= new SyncReader(this.#url, this.#connectionOptions);
    return this.#sync.get<T>(toPositional(sql), storable(params));
  }

  async transaction<T>(fn: (tx: BusinessTx) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      // One writer at a time per schema, like SQLite's BEGIN IMMEDIATE: an idempotency check made
      // after this lock sees every earlier commit, and generated ids (REF-00001, …) cannot collide.
      await client.query(LOCK_SQL, [lockName(this.#schema)]);
      const result = await fn(queriesOn(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.#sync?.close();
    await this.#pool.end();
  }
}

/** Insert seed rows in multi-row statements, well under PostgreSQL's 65,535 parameters each. */
async function insertSeed(client: pg.PoolClient, seed: number): Promise<void> {
  for (const { table, columns, rows } of seedRows(seed)) {
    const perStatement = Math.min(1000, Math.floor(30_000 / columns.length));
    for (let at = 0; at < rows.length; at += perStatement) {
      const chunk = rows.slice(at, at + perStatement);
      let n = 0;
      const values = chunk.map(() => `(${columns.map(() => `$${++n}`).join(',')})`).join(',');
      await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
    }
  }
}

/** See `openPostgresBusinessDb` in db.ts, which loads this module on demand. */
export async function openPostgres(options: OpenPostgresBusinessDbOptions): Promise<BusinessDb> {
  const { url, schema } = options;
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`schema: "${schema}" must be a plain identifier of at most 63 characters`);
  }
  const connectionOptions = `-c search_path=${ident(schema)}`;
  const pool = new pg.Pool({
    connectionString: url,
    options: connectionOptions,
    max: 5,
    application_name: 'switchboard-business',
    connectionTimeoutMillis: 10_000,
    types: TYPES,
  });
  // An idle connection that dies must not crash the process; the next query reports the outage.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Processes starting together queue here; the first creates and seeds, the others then find
      // the meta table committed and seed nothing.
      await client.query(LOCK_SQL, [lockName(schema)]);
      if (options.reset) await client.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
      const found = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
        `${ident(schema)}.meta`,
      ]);
      if (found.rows[0]?.t == null) {
        await client.query(schemaSql('postgres'));
        await insertSeed(client, options.seed ?? DEFAULT_SEED);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresBusinessDb(pool, schema, url, connectionOptions, businessClock(options));
}

/**
 * API keys on PostgreSQL (table `api_keys` in the store's schema), shared by every gateway replica
 * on the database. Nothing is cached here: the Authenticator's short cache and the connection sweep
 * bound how long a key revoked through one replica keeps working on another (≤ 1 s by default).
 */
import pg from 'pg';
import { ident } from '../store/postgres/schema.ts';
import { duplicateKey, fromRow, type KeyRow, type KeyStore } from './keys.ts';

/** Where a gateway's PostgreSQL tables live, and how to reach them. */
export interface GatewayPgOptions {
  url: string;
  /** The schema the tables are created in (the store's schema, e.g. `switchboard`). */
  schema: string;
  poolSize?: number;
  applicationName?: string;
  /** A failure of an idle pooled connection (default: logged); unhandled it would crash the process. */
  onError?: (error: unknown) => void;
}

/** A pool on the gateway's tables, which are created on first use. */
export interface GatewayTables {
  pool: pg.Pool;
  /** The quoted schema, for SQL text. */
  s: string;
  /** Resolves once the schema and tables exist. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Open a pool and create `ddl(s)` (IF NOT EXISTS statements) on first use. Used by the key store and
 * by usage-postgres.ts, so both create their tables the same safe way.
 */
export function gatewayTables(
  options: GatewayPgOptions,
  name: string,
  ddl: (s: string) => string,
): GatewayTables {
  const s = ident(options.schema);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? `switchboard-${name}`,
    connectionTimeoutMillis: 10_000,
  });
  const onError = options.onError ?? ((e: unknown) => console.error(`[switchboard:${name}]`, e));
  pool.on('error', onError);
  let created: Promise<void> | null = null;
  let closed = false;
  const create = async (): Promise<void> => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      // Two processes running CREATE … IF NOT EXISTS at once can both miss the other's uncommitted
      // catalog row and fail on a unique index; the lock makes the second wait, then find the table.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [
        `switchboard-gateway:${options.schema}`,
      ]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(ddl(s));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  };
  return {
    pool,
    s,
    ready() {
      // A failed attempt (database down at start) is forgotten, so the next request tries again.
      created ??= create().catch((error: unknown) => {
        created = null;
        throw error;
      });
      return created;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** `api_keys` as the SQLite adapter has it, with 64-bit times. */
const KEYS_DDL = (s: string): string => `CREATE TABLE IF NOT EXISTS ${s}.api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  actor_id text NOT NULL,
  role text NOT NULL,
  plan text NOT NULL,
  prefix text NOT NULL,
  hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  revoked_at bigint
)`;

const COLUMNS = 'id, name, actor_id, role, plan, prefix, hash, created_at, revoked_at';

/**
 * Keys in PostgreSQL, visible to every process on the database as soon as they are written.
 * @example
 * const keys = createPostgresKeyStore({ url: 'postgres://localhost/app', schema: 'switchboard' });
 * const { key } = await issueKey(keys, { name: 'alice', role: 'user' });
 */
export function createPostgresKeyStore(options: GatewayPgOptions): KeyStore {
  const db = gatewayTables(options, 'keys', KEYS_DDL);
  const { pool, s } = db;
  const one = async (where: string, value: string) => {
    // Ids and hashes are ASCII: one holding NUL names no key (and PostgreSQL would refuse it).
    if (value.includes('\u0000')) return null;
    await db.ready();
    const { rows } = await pool.query<KeyRow>(`SELECT ${COLUMNS} FROM ${s}.api_keys WHERE ${where} = $1`, [
      value,
    ]);
    return rows[0] ? fromRow(rows[0]) : null;
  };
  return {
    async insert(r) {
      await db.ready();
      try {
        await pool.query(
          `INSERT INTO ${s}.api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [r.id, r.name, r.actorId, r.role, r.plan, r.prefix, r.hash, r.createdAt, r.revokedAt],
        );
      } catch (error) {
        const e = error as { code?: unknown; constraint?: unknown };
        if (e.code === '23505' && e.constraint === 'api_keys_pkey') throw duplicateKey(r.id);
        throw error;
      }
    },
    findByHash: (hash) => one('hash', hash),
    get: (id) => one('id', id),
    async list() {
      await db.ready();
      // COLLATE "C": ties break by code unit, as in the memory and SQLite adapters, whatever the locale.
      const { rows } = await pool.query<KeyRow>(
        `SELECT ${COLUMNS} FROM ${s}.api_keys ORDER BY created_at, id COLLATE "C"`,
      );
      return rows.map(fromRow);
    },
    async revoke(id, at) {
      if (id.includes('\u0000')) return false;
      await db.ready();
      const r = await pool.query(
        `UPDATE ${s}.api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`,
        [id, at],
      );
      return (r.rowCount ?? 0) > 0;
    },
    close: () => db.close(),
  };
}

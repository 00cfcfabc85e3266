/**
 * Versioned migrations of the PostgreSQL store. Every table lives in the store's own schema, so
 * several systems can share one database. Migrations run at start-up (or alone with
 * `switchboard migrate`) under an advisory lock: processes starting together migrate once.
 */
import type { PoolClient } from 'pg';

/** Ordered, append-only list of migrations. Never edit a released one; add a new one. */
export const PG_MIGRATIONS: readonly { version: number; name: string; sql: (s: string) => string }[] = [
  {
    version: 1,
    name: 'journal, runs projection, tasks, session order, dedup',
    sql: (s) => `
      CREATE TABLE ${s}.events (
        run_id text NOT NULL, seq integer NOT NULL, at bigint NOT NULL, v integer NOT NULL,
        type text NOT NULL, data text NOT NULL, PRIMARY KEY (run_id, seq)
      );
      CREATE TABLE ${s}.runs (
        run_id text PRIMARY KEY, actor_id text NOT NULL, session_id text NOT NULL, agent text,
        status text NOT NULL, parent_run_id text, created_at bigint NOT NULL,
        updated_at bigint NOT NULL, last_seq integer NOT NULL, summary text
      );
      CREATE INDEX runs_actor_session ON ${s}.runs (actor_id, session_id, created_at);
      CREATE INDEX runs_status ON ${s}.runs (status);
      CREATE INDEX runs_parent ON ${s}.runs (parent_run_id);
      CREATE INDEX runs_created ON ${s}.runs (created_at DESC, run_id);
      CREATE TABLE ${s}.tasks (
        run_id text PRIMARY KEY, queue text NOT NULL, ready_at bigint NOT NULL,
        lease_owner text, lease_expires bigint, fence bigint NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0
      );
      CREATE INDEX tasks_queue_ready ON ${s}.tasks (queue, ready_at);
      CREATE SEQUENCE ${s}.fence_seq;
      CREATE TABLE ${s}.session_runs (
        pos bigserial PRIMARY KEY, session_key text NOT NULL,
        run_id text NOT NULL UNIQUE, queue text NOT NULL
      );
      CREATE INDEX session_runs_key ON ${s}.session_runs (session_key, pos);
      CREATE TABLE ${s}.dedup (key text PRIMARY KEY, run_id text NOT NULL, expires_at bigint NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'hash-chained journal, approvals inbox',
    sql: (s) => `
      ALTER TABLE ${s}.events ADD COLUMN prev_hash text;
      ALTER TABLE ${s}.events ADD COLUMN hash text;
      CREATE TABLE ${s}.approvals (
        approval_id text PRIMARY KEY, run_id text NOT NULL, call_id text NOT NULL, tool text NOT NULL,
        agent text NOT NULL, args text NOT NULL, args_digest text NOT NULL, reasons text NOT NULL,
        requested_by text NOT NULL, requested_at bigint NOT NULL, expires_at bigint NOT NULL,
        status text NOT NULL, approver text, comment text, decided_at bigint
      );
      CREATE INDEX approvals_status ON ${s}.approvals (status, requested_at);
      CREATE INDEX approvals_run ON ${s}.approvals (run_id);
    `,
  },
  {
    version: 3,
    name: 'long-term facts',
    sql: (s) => `
      CREATE TABLE ${s}.facts (
        id text PRIMARY KEY, actor_id text NOT NULL, namespace text NOT NULL, key text NOT NULL,
        value text NOT NULL, source text NOT NULL, trusted boolean NOT NULL, run_id text, call_id text,
        created_at bigint NOT NULL, expires_at bigint, UNIQUE (actor_id, namespace, key)
      );
      CREATE INDEX facts_actor ON ${s}.facts (actor_id);
    `,
  },
  {
    version: 4,
    name: 'user text columns escaped like keys (NUL-safe)',
    // These columns were stored raw (so they held no NUL); pgText of such a value is the value
    // with its backslashes doubled, so this makes every existing row read back unchanged.
    sql: (s) => {
      const esc = (c: string): string => `${c} = replace(${c}, '\\', '\\\\')`;
      return `
      UPDATE ${s}.runs SET ${esc('summary')} WHERE summary LIKE '%\\\\%';
      UPDATE ${s}.approvals SET ${['call_id', 'requested_by', 'approver', 'comment'].map(esc).join(', ')};
      UPDATE ${s}.facts SET ${['id', 'actor_id', 'namespace', 'key', 'value', 'call_id'].map(esc).join(', ')};
    `;
    },
  },
  {
    version: 5,
    name: 'run heads (last seq and hash, sealed) for tamper evidence',
    // Heads of existing runs are migrated unsealed (seal ''): verify reports them as unkeyed.
    sql: (s) => `
      CREATE TABLE ${s}.run_heads (
        run_id text PRIMARY KEY, seq integer NOT NULL, hash text NOT NULL, seal text NOT NULL
      );
      INSERT INTO ${s}.run_heads (run_id, seq, hash, seal)
        SELECT DISTINCT ON (run_id) run_id, seq, coalesce(hash, ''), '' FROM ${s}.events
        ORDER BY run_id, seq DESC;
    `,
  },
  {
    version: 6,
    name: 'policy ledger (policies over history)',
    sql: (s) => `
      CREATE TABLE ${s}.policy_ledger (
        id text PRIMARY KEY, key text NOT NULL, amount double precision NOT NULL,
        at bigint NOT NULL, run_id text NOT NULL, call_id text NOT NULL
      );
      CREATE INDEX policy_ledger_key ON ${s}.policy_ledger (key, at);
      CREATE INDEX policy_ledger_call ON ${s}.policy_ledger (run_id, call_id);
    `,
  },
  {
    version: 7,
    name: 'batches of runs from JSONL (batch run, POST /v1/batches)',
    sql: (s) => `
      CREATE TABLE ${s}.batches (
        batch_id text PRIMARY KEY, owner text NOT NULL, agent text, origin text NOT NULL,
        input_digest text NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,
        status text NOT NULL, total integer NOT NULL
      );
      CREATE INDEX batches_owner ON ${s}.batches (owner, created_at);
      CREATE INDEX batches_created ON ${s}.batches (created_at);
      CREATE TABLE ${s}.batch_records (
        batch_id text NOT NULL, idx integer NOT NULL, custom_id text NOT NULL, request text,
        error text, run_id text, status text NOT NULL, PRIMARY KEY (batch_id, idx)
      );
    `,
  },
  {
    version: 8,
    name: 'schedules: paused override, last slot evaluated, a record per slot',
    sql: (s) => `
      CREATE TABLE ${s}.schedule_state (
        schedule text PRIMARY KEY, paused boolean, last_slot bigint, updated_at bigint NOT NULL
      );
      CREATE TABLE ${s}.schedule_slots (
        schedule text NOT NULL, key text NOT NULL, slot bigint NOT NULL, kind text NOT NULL,
        status text NOT NULL, run_id text, reason text, at bigint NOT NULL, PRIMARY KEY (schedule, key)
      );
      CREATE INDEX schedule_slots_slot ON ${s}.schedule_slots (schedule, slot);
    `,
  },
  {
    version: 9,
    name: 'deployments: agent versions, aliases, session versions, deployments, served versions; runs.version',
    // One active deployment per agent and alias: the partial unique index decides a race of creators.
    // Session keys are user text of any length: the key is the sha256 of the escaped key, which
    // fits a btree entry (a 1 MB key would not); the key itself is kept beside it for erasure.
    sql: (s) => `
      CREATE TABLE ${s}.agent_versions (
        agent text NOT NULL, version text NOT NULL, digest text NOT NULL, labeled boolean NOT NULL,
        definition text NOT NULL, source text, created_at bigint NOT NULL, PRIMARY KEY (agent, version)
      );
      CREATE TABLE ${s}.agent_aliases (
        agent text NOT NULL, alias text NOT NULL, weights text NOT NULL, rev integer NOT NULL,
        updated_at bigint NOT NULL, updated_by text NOT NULL, PRIMARY KEY (agent, alias)
      );
      CREATE TABLE ${s}.session_versions (
        agent text NOT NULL, key_hash text NOT NULL, session_key text NOT NULL, version text NOT NULL,
        assigned_at bigint NOT NULL, PRIMARY KEY (agent, key_hash)
      );
      CREATE TABLE ${s}.deployments (
        deployment_id text PRIMARY KEY, agent text NOT NULL, alias text NOT NULL, status text NOT NULL,
        created_at bigint NOT NULL, record text NOT NULL, rev integer NOT NULL
      );
      CREATE INDEX deployments_agent ON ${s}.deployments (agent, alias, created_at);
      CREATE INDEX deployments_status ON ${s}.deployments (status);
      CREATE UNIQUE INDEX deployments_one_active ON ${s}.deployments (agent, alias)
        WHERE status IN ('in_progress', 'paused');
      CREATE TABLE ${s}.worker_announcements (
        owner text PRIMARY KEY, served text NOT NULL, seen_at bigint NOT NULL, expires_at bigint NOT NULL
      );
      ALTER TABLE ${s}.runs ADD COLUMN version text;
      CREATE INDEX runs_agent_version ON ${s}.runs (agent, version, created_at);
    `,
  },
];

/** Quote an identifier for SQL (schema names come from configuration). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Run pending migrations in order, each in its own transaction, serialized across processes by an
 * advisory lock on the schema name; returns the versions applied.
 */
export async function migratePg(client: PoolClient, schema: string, now: number): Promise<number[]> {
  const s = ident(schema);
  // Session-level lock: a second process waits here and then finds nothing left to apply.
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 7))', [`switchboard:${schema}`]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
    );
    const { rows } = await client.query<{ v: number }>(
      `SELECT coalesce(max(version), 0)::int AS v FROM ${s}.migrations`,
    );
    const current = rows[0]?.v ?? 0;
    const applied: number[] = [];
    for (const m of PG_MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql(s));
        await client.query(`INSERT INTO ${s}.migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
          m.version,
          m.name,
          now,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 7))', [`switchboard:${schema}`]);
  }
}

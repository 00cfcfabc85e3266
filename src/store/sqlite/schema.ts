import type { DatabaseSync } from 'node:sqlite';

/** Ordered, append-only list of migrations. Never edit a released one; add a new one. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'journal, runs projection, tasks, session order, dedup',
    sql: `
      CREATE TABLE events (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, v INTEGER NOT NULL,
        type TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, actor_id TEXT NOT NULL, session_id TEXT NOT NULL, agent TEXT,
        status TEXT NOT NULL, parent_run_id TEXT, created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL, summary TEXT
      );
      CREATE INDEX runs_actor_session ON runs (actor_id, session_id, created_at);
      CREATE INDEX runs_status ON runs (status);
      CREATE INDEX runs_parent ON runs (parent_run_id);
      CREATE TABLE tasks (
        run_id TEXT PRIMARY KEY, queue TEXT NOT NULL, ready_at INTEGER NOT NULL,
        lease_owner TEXT, lease_expires INTEGER, fence INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX tasks_queue_ready ON tasks (queue, ready_at);
      CREATE TABLE session_runs (
        pos INTEGER PRIMARY KEY AUTOINCREMENT, session_key TEXT NOT NULL,
        run_id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL
      );
      CREATE INDEX session_runs_key ON session_runs (session_key, pos);
      CREATE TABLE dedup (key TEXT PRIMARY KEY, run_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO meta (key, value) VALUES ('fence', 0);
    `,
  },
  {
    version: 2,
    name: 'hash-chained journal, approvals inbox',
    sql: `
      ALTER TABLE events ADD COLUMN prev_hash TEXT;
      ALTER TABLE events ADD COLUMN hash TEXT;
      CREATE TABLE approvals (
        approval_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, call_id TEXT NOT NULL, tool TEXT NOT NULL,
        agent TEXT NOT NULL, args TEXT NOT NULL, args_digest TEXT NOT NULL, reasons TEXT NOT NULL,
        requested_by TEXT NOT NULL, requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        status TEXT NOT NULL, approver TEXT, comment TEXT, decided_at INTEGER
      );
      CREATE INDEX approvals_status ON approvals (status, requested_at);
      CREATE INDEX approvals_run ON approvals (run_id);
    `,
  },
  {
    version: 3,
    name: 'long-term facts',
    sql: `
      CREATE TABLE facts (
        id TEXT PRIMARY KEY, actor_id TEXT NOT NULL, namespace TEXT NOT NULL, key TEXT NOT NULL,
        value TEXT NOT NULL, source TEXT NOT NULL, trusted INTEGER NOT NULL, run_id TEXT, call_id TEXT,
        created_at INTEGER NOT NULL, expires_at INTEGER, UNIQUE (actor_id, namespace, key)
      );
      CREATE INDEX facts_actor ON facts (actor_id);
    `,
  },
  {
    version: 4,
    name: 'run heads (last seq and hash, sealed) for tamper evidence',
    // Heads of existing runs are migrated unsealed (seal ''): verify reports them as unkeyed.
    sql: `
      CREATE TABLE run_heads (
        run_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, seal TEXT NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO run_heads (run_id, seq, hash, seal)
        SELECT run_id, max(seq), coalesce(hash, ''), '' FROM events GROUP BY run_id;
    `,
  },
  {
    version: 5,
    name: 'policy ledger (policies over history)',
    sql: `
      CREATE TABLE policy_ledger (
        id TEXT PRIMARY KEY, key TEXT NOT NULL, amount REAL NOT NULL,
        at INTEGER NOT NULL, run_id TEXT NOT NULL, call_id TEXT NOT NULL
      );
      CREATE INDEX policy_ledger_key ON policy_ledger (key, at);
      CREATE INDEX policy_ledger_call ON policy_ledger (run_id, call_id);
    `,
  },
  {
    version: 6,
    name: 'batches of runs from JSONL (batch run, POST /v1/batches)',
    sql: `
      CREATE TABLE batches (
        batch_id TEXT PRIMARY KEY, owner TEXT NOT NULL, agent TEXT, origin TEXT NOT NULL,
        input_digest TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        status TEXT NOT NULL, total INTEGER NOT NULL
      );
      CREATE INDEX batches_owner ON batches (owner, created_at);
      CREATE INDEX batches_created ON batches (created_at);
      CREATE TABLE batch_records (
        batch_id TEXT NOT NULL, idx INTEGER NOT NULL, custom_id TEXT NOT NULL, request TEXT,
        error TEXT, run_id TEXT, status TEXT NOT NULL, PRIMARY KEY (batch_id, idx)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'schedules: paused override, last slot evaluated, a record per slot',
    sql: `
      CREATE TABLE schedule_state (
        schedule TEXT PRIMARY KEY, paused INTEGER, last_slot INTEGER, updated_at INTEGER NOT NULL
      );
      CREATE TABLE schedule_slots (
        schedule TEXT NOT NULL, key TEXT NOT NULL, slot INTEGER NOT NULL, kind TEXT NOT NULL,
        status TEXT NOT NULL, run_id TEXT, reason TEXT, at INTEGER NOT NULL, PRIMARY KEY (schedule, key)
      ) WITHOUT ROWID;
      CREATE INDEX schedule_slots_slot ON schedule_slots (schedule, slot);
    `,
  },
  {
    version: 8,
    name: 'deployments: agent versions, aliases, session versions, deployments, served versions; runs.version',
    // One active deployment per agent and alias: the partial unique index decides a race of creators.
    sql: `
      CREATE TABLE agent_versions (
        agent TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL, labeled INTEGER NOT NULL,
        definition TEXT NOT NULL, source TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (agent, version)
      ) WITHOUT ROWID;
      CREATE TABLE agent_aliases (
        agent TEXT NOT NULL, alias TEXT NOT NULL, weights TEXT NOT NULL, rev INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL, PRIMARY KEY (agent, alias)
      ) WITHOUT ROWID;
      CREATE TABLE session_versions (
        agent TEXT NOT NULL, session_key TEXT NOT NULL, version TEXT NOT NULL,
        assigned_at INTEGER NOT NULL, PRIMARY KEY (agent, session_key)
      ) WITHOUT ROWID;
      CREATE INDEX session_versions_key ON session_versions (session_key);
      CREATE TABLE deployments (
        deployment_id TEXT PRIMARY KEY, agent TEXT NOT NULL, alias TEXT NOT NULL, status TEXT NOT NULL,
        created_at INTEGER NOT NULL, record TEXT NOT NULL, rev INTEGER NOT NULL
      );
      CREATE INDEX deployments_agent ON deployments (agent, alias, created_at);
      CREATE INDEX deployments_status ON deployments (status);
      CREATE UNIQUE INDEX deployments_one_active ON deployments (agent, alias)
        WHERE status IN ('in_progress', 'paused');
      CREATE TABLE worker_announcements (
        owner TEXT PRIMARY KEY, served TEXT NOT NULL, seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
      );
      ALTER TABLE runs ADD COLUMN version TEXT;
      CREATE INDEX runs_agent_version ON runs (agent, version, created_at);
    `,
  },
];

/**
 * Run pending migrations in order, all in one transaction (one commit, so one fsync for a new
 * database instead of one per migration: all of them apply, or none); returns the versions applied.
 */
export function migrate(db: DatabaseSync, now: number): number[] {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  const current = (): number =>
    (db.prepare('SELECT coalesce(max(version), 0) AS v FROM migrations').get() as { v: number }).v;
  const hasTable = (): boolean =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").get() !==
    undefined;
  // Up to date (every start after the first): no write lock, no commit.
  if (hasTable() && current() >= latest) return [];
  const applied: number[] = [];
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(
      'CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    // Read under the write lock: another process may have applied some while we waited for it.
    const from = current();
    const record = db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, now);
      applied.push(m.version);
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
  return applied;
}

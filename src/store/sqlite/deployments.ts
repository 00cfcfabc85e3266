/**
 * The deployment store on SQLite, in the store's own database file and connection (migration 8).
 * Compare-and-set writes are single `UPDATE … WHERE rev = ?` statements; a deployment step that
 * moves an alias is one `BEGIN IMMEDIATE` transaction, which takes the file's write lock first so
 * another process's writer waits. Every method runs synchronously to its end, like the store's
 * group commit (store.ts #flush), so the two never interleave on the shared connection. One
 * active deployment per agent and alias is the partial unique index `deployments_one_active`:
 * of two processes creating at once, the second insert finds the first's row and does nothing.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { DeploymentRecord, DeploymentStore } from '../deployment-port.ts';
import {
  ACTIVE_SQL,
  aliasOfRow,
  deploymentJson,
  deploymentOfRow,
  versionOfRow,
  weightsJson,
  workerOfRow,
  type DeploymentSqlRow,
} from '../deployment-rows.ts';
import { storedOpt, storedText } from '../text.ts';

type Row = DeploymentSqlRow;

/** Upsert an alias: rev 1 on insert, rev + 1 on every write. */
const UPSERT_ALIAS = `INSERT INTO agent_aliases (agent, alias, weights, rev, updated_at, updated_by) VALUES (?, ?, ?, 1, ?, ?)
  ON CONFLICT (agent, alias) DO UPDATE SET weights = excluded.weights, rev = agent_aliases.rev + 1,
    updated_at = excluded.updated_at, updated_by = excluded.updated_by`;

export function createSqliteDeployments(db: DatabaseSync): DeploymentStore {
  const helpers = sqliteHelpers(db);
  return { ...sqliteVersionMethods(helpers), ...sqliteDeploymentMethods(helpers) };
}

/** The statements the methods share. */
function sqliteHelpers(db: DatabaseSync) {
  const statements = new Map<string, StatementSync>();
  const stmt = (sql: string): StatementSync => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  const one = (sql: string, ...args: SQLInputValue[]): Row | undefined =>
    stmt(sql).get(...args) as Row | undefined;
  const all = (sql: string, ...args: SQLInputValue[]): Row[] => stmt(sql).all(...args) as Row[];
  const changes = (sql: string, ...args: SQLInputValue[]): number => Number(stmt(sql).run(...args).changes);
  const getAlias = (agent: string, alias: string): Row | undefined =>
    one('SELECT * FROM agent_aliases WHERE agent = ? AND alias = ?', storedText(agent), storedText(alias));
  const getDeployment = (id: string): Row | undefined =>
    one('SELECT * FROM deployments WHERE deployment_id = ?', id);
  const transaction = <T>(fn: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };
  const writeDeployment = (d: DeploymentRecord, expectedRev: number): boolean =>
    changes(
      `UPDATE deployments SET agent = ?, alias = ?, status = ?, created_at = ?, record = ?, rev = ?
       WHERE deployment_id = ? AND rev = ?`,
      storedText(d.agent),
      storedText(d.alias),
      d.status,
      d.createdAt,
      deploymentJson(d, expectedRev + 1),
      expectedRev + 1,
      d.deploymentId,
      expectedRev,
    ) > 0;

  return { db, statements, stmt, one, all, changes, getAlias, getDeployment, transaction, writeDeployment };
}
type SqliteHelpers = ReturnType<typeof sqliteHelpers>;

/** Agent versions, aliases and session assignments. */
function sqliteVersionMethods({
  stmt,
  one,
  all,
  changes,
  getAlias,
}: SqliteHelpers): Pick<
  DeploymentStore,
  | 'publish'
  | 'versions'
  | 'deleteVersion'
  | 'alias'
  | 'aliases'
  | 'setAlias'
  | 'sessionVersion'
  | 'stickSession'
  | 'forgetActor'
> {
  return {
    publish: async (v) => {
      stmt(
        `INSERT INTO agent_versions (agent, version, digest, labeled, definition, source, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent, version) DO NOTHING`,
      ).run(
        storedText(v.agent),
        storedText(v.version),
        storedText(v.digest),
        v.labeled ? 1 : 0,
        JSON.stringify(v.definition ?? null),
        storedOpt(v.source),
        v.createdAt,
      );
      const r = one(
        'SELECT * FROM agent_versions WHERE agent = ? AND version = ?',
        storedText(v.agent),
        storedText(v.version),
      );
      return versionOfRow(r as Row);
    },
    versions: async (agent) =>
      (agent === undefined
        ? all('SELECT * FROM agent_versions ORDER BY created_at, version')
        : all('SELECT * FROM agent_versions WHERE agent = ? ORDER BY created_at, version', storedText(agent))
      ).map((r) => versionOfRow(r)),
    deleteVersion: async (agent, version) =>
      changes(
        'DELETE FROM agent_versions WHERE agent = ? AND version = ?',
        storedText(agent),
        storedText(version),
      ) > 0,

    alias: async (agent, alias) => {
      const r = getAlias(agent, alias);
      return r ? aliasOfRow(r) : null;
    },
    aliases: async (agent) =>
      (agent === undefined
        ? all('SELECT * FROM agent_aliases ORDER BY agent, alias')
        : all('SELECT * FROM agent_aliases WHERE agent = ? ORDER BY alias', storedText(agent))
      ).map((r) => aliasOfRow(r)),
    setAlias: async (a, expectedRev) => {
      const args = [weightsJson(a.weights), a.updatedAt, storedText(a.updatedBy)];
      const written =
        expectedRev === null
          ? changes(
              `INSERT INTO agent_aliases (agent, alias, weights, rev, updated_at, updated_by) VALUES (?, ?, ?, 1, ?, ?)
               ON CONFLICT (agent, alias) DO NOTHING`,
              storedText(a.agent),
              storedText(a.alias),
              ...args,
            )
          : changes(
              `UPDATE agent_aliases SET weights = ?, rev = rev + 1, updated_at = ?, updated_by = ?
               WHERE agent = ? AND alias = ? AND rev = ?`,
              ...args,
              storedText(a.agent),
              storedText(a.alias),
              expectedRev,
            );
      // The write and this read run without a yield in between: nobody else wrote the row since.
      return written > 0 ? aliasOfRow(getAlias(a.agent, a.alias) as Row) : null;
    },

    sessionVersion: async (agent, sessionKey) => {
      const r = one(
        'SELECT version FROM session_versions WHERE agent = ? AND session_key = ?',
        storedText(agent),
        storedText(sessionKey),
      );
      return r ? String(r.version) : null;
    },
    stickSession: async (agent, sessionKey, version, replace, at) => {
      stmt(
        `INSERT INTO session_versions (agent, session_key, version, assigned_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (agent, session_key) DO ${replace ? 'UPDATE SET version = excluded.version, assigned_at = excluded.assigned_at' : 'NOTHING'}`,
      ).run(storedText(agent), storedText(sessionKey), storedText(version), at);
      const r = one(
        'SELECT version FROM session_versions WHERE agent = ? AND session_key = ?',
        storedText(agent),
        storedText(sessionKey),
      );
      return String(r?.version ?? storedText(version));
    },
    // A range, not LIKE: the actor id is user text (`%`, `_`, NUL); keys are `actorId\u0000sessionId`,
    // so exactly the keys of this actor sort in [actorId\u0000, actorId\u0001).
    forgetActor: async (actorId) =>
      changes(
        'DELETE FROM session_versions WHERE session_key >= ? AND session_key < ?',
        `${storedText(actorId)}\u0000`,
        `${storedText(actorId)}\u0001`,
      ),
  };
}

/** Deployments and the workers that serve versions. */
function sqliteDeploymentMethods({
  stmt,
  all,
  changes,
  getDeployment,
  transaction,
  writeDeployment,
}: SqliteHelpers): Pick<
  DeploymentStore,
  'createDeployment' | 'deployment' | 'deployments' | 'updateDeployment' | 'announce' | 'retire' | 'workers'
> {
  return {
    createDeployment: async (d) =>
      changes(
        `INSERT INTO deployments (deployment_id, agent, alias, status, created_at, record, rev)
         VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
        d.deploymentId,
        storedText(d.agent),
        storedText(d.alias),
        d.status,
        d.createdAt,
        deploymentJson(d, 1),
      ) > 0,
    deployment: async (id) => {
      const r = getDeployment(id);
      return r ? deploymentOfRow(r) : null;
    },
    deployments: async ({ agent, active, limit = 100 } = {}) => {
      const where: string[] = [];
      const args: SQLInputValue[] = [];
      if (agent !== undefined) {
        where.push('agent = ?');
        args.push(storedText(agent));
      }
      if (active) where.push(`status IN ${ACTIVE_SQL}`);
      const sql = `SELECT * FROM deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, deployment_id DESC LIMIT ?`;
      return all(sql, ...args, limit).map(deploymentOfRow);
    },
    updateDeployment: async (d, expectedRev, alias) => {
      const written = alias
        ? transaction(() => {
            if (!writeDeployment(d, expectedRev)) return false;
            stmt(UPSERT_ALIAS).run(
              storedText(d.agent),
              storedText(d.alias),
              weightsJson(alias.weights),
              d.updatedAt,
              storedText(alias.by),
            );
            return true;
          })
        : writeDeployment(d, expectedRev);
      return written ? deploymentOfRow(getDeployment(d.deploymentId) as Row) : null;
    },

    announce: async (w) => {
      stmt(
        `INSERT INTO worker_announcements (owner, served, seen_at, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (owner) DO UPDATE SET served = excluded.served, seen_at = excluded.seen_at,
           expires_at = excluded.expires_at`,
      ).run(storedText(w.owner), JSON.stringify(w.served), w.seenAt, w.expiresAt);
    },
    retire: async (owner) => {
      changes('DELETE FROM worker_announcements WHERE owner = ?', storedText(owner));
    },
    workers: async (now) =>
      all('SELECT * FROM worker_announcements WHERE expires_at > ? ORDER BY owner', now).map((r) =>
        workerOfRow(r),
      ),
  };
}

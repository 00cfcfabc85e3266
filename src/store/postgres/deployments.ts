/**
 * The deployment store on PostgreSQL, in the store's schema (migration 9). Compare-and-set
 * writes are single `UPDATE … WHERE rev = $n` statements (a concurrent writer at the same rev
 * waits on the row lock, then finds the rev moved and changes nothing); a deployment step that
 * moves an alias is one transaction. One active deployment per agent and alias is the partial
 * unique index `deployments_one_active`: of two creators at once, the second `INSERT … ON
 * CONFLICT DO NOTHING` waits for the first and then does nothing. Text a caller wrote goes
 * through pgText like every user text column.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { DeploymentRecord, DeploymentStore } from '../deployment-port.ts';
import { UserError } from '../../core/errors.ts';
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
import { fromPgText, impossibleId, pgOpt, pgText } from './text.ts';

type Row = DeploymentSqlRow;

/** A session key's btree key: any length of user text fits (session_versions, migration 9). */
const keyHash = (sessionKey: string): string => createHash('sha256').update(pgText(sessionKey)).digest('hex');

/** `pool`: the store's pool; `s`: its schema, already quoted; `ready`: the store's migrations. */
export function createPostgresDeployments(
  pool: pg.Pool,
  s: string,
  ready: () => Promise<void>,
): DeploymentStore {
  const helpers = postgresHelpers(pool, s, ready);
  return { ...postgresVersionMethods(helpers), ...postgresDeploymentMethods(helpers) };
}

/** The statements the methods share. */
function postgresHelpers(pool: pg.Pool, s: string, ready: () => Promise<void>) {
  const query = async (
    sql: string,
    args: unknown[] = [],
    c: pg.Pool | pg.PoolClient = pool,
  ): Promise<Row[]> => {
    await ready();
    return (await c.query(sql, args)).rows as Row[];
  };
  const writeDeployment = async (
    d: DeploymentRecord,
    expectedRev: number,
    c: pg.Pool | pg.PoolClient,
  ): Promise<Row | undefined> =>
    (
      await query(
        `UPDATE ${s}.deployments SET agent = $1, alias = $2, status = $3, created_at = $4, record = $5, rev = $6
         WHERE deployment_id = $7 AND rev = $8 RETURNING *`,
        [
          pgText(d.agent),
          pgText(d.alias),
          d.status,
          d.createdAt,
          deploymentJson(d, expectedRev + 1),
          expectedRev + 1,
          d.deploymentId,
          expectedRev,
        ],
        c,
      )
    )[0];
  const sessionVersion = async (agent: string, sessionKey: string): Promise<string | null> => {
    const rows = await query(`SELECT version FROM ${s}.session_versions WHERE agent = $1 AND key_hash = $2`, [
      pgText(agent),
      keyHash(sessionKey),
    ]);
    return rows[0] ? fromPgText(String(rows[0].version)) : null;
  };

  return { pool, s, ready, query, writeDeployment, sessionVersion };
}
type PostgresHelpers = ReturnType<typeof postgresHelpers>;

/** Agent versions, aliases and session assignments. */
function postgresVersionMethods({
  s,
  query,
  sessionVersion,
}: PostgresHelpers): Pick<
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
      const args = [pgText(v.agent), pgText(v.version)];
      await query(
        `INSERT INTO ${s}.agent_versions (agent, version, digest, labeled, definition, source, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agent, version) DO NOTHING`,
        [
          ...args,
          pgText(v.digest),
          v.labeled,
          JSON.stringify(v.definition ?? null),
          pgOpt(v.source),
          v.createdAt,
        ],
      );
      const rows = await query(`SELECT * FROM ${s}.agent_versions WHERE agent = $1 AND version = $2`, args);
      return versionOfRow(rows[0] as Row, fromPgText);
    },
    versions: async (agent) =>
      (agent === undefined
        ? await query(`SELECT * FROM ${s}.agent_versions ORDER BY created_at, version COLLATE "C"`)
        : await query(
            `SELECT * FROM ${s}.agent_versions WHERE agent = $1 ORDER BY created_at, version COLLATE "C"`,
            [pgText(agent)],
          )
      ).map((r) => versionOfRow(r, fromPgText)),
    deleteVersion: async (agent, version) =>
      (
        await query(`DELETE FROM ${s}.agent_versions WHERE agent = $1 AND version = $2 RETURNING 1`, [
          pgText(agent),
          pgText(version),
        ])
      ).length > 0,

    alias: async (agent, alias) => {
      const rows = await query(`SELECT * FROM ${s}.agent_aliases WHERE agent = $1 AND alias = $2`, [
        pgText(agent),
        pgText(alias),
      ]);
      return rows[0] ? aliasOfRow(rows[0], fromPgText) : null;
    },
    aliases: async (agent) =>
      (agent === undefined
        ? await query(`SELECT * FROM ${s}.agent_aliases ORDER BY agent COLLATE "C", alias COLLATE "C"`)
        : await query(`SELECT * FROM ${s}.agent_aliases WHERE agent = $1 ORDER BY alias COLLATE "C"`, [
            pgText(agent),
          ])
      ).map((r) => aliasOfRow(r, fromPgText)),
    setAlias: async (a, expectedRev) => {
      const rows =
        expectedRev === null
          ? await query(
              `INSERT INTO ${s}.agent_aliases (agent, alias, weights, rev, updated_at, updated_by)
               VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (agent, alias) DO NOTHING RETURNING *`,
              [pgText(a.agent), pgText(a.alias), weightsJson(a.weights), a.updatedAt, pgText(a.updatedBy)],
            )
          : await query(
              `UPDATE ${s}.agent_aliases SET weights = $3, rev = rev + 1, updated_at = $4, updated_by = $5
               WHERE agent = $1 AND alias = $2 AND rev = $6 RETURNING *`,
              [
                pgText(a.agent),
                pgText(a.alias),
                weightsJson(a.weights),
                a.updatedAt,
                pgText(a.updatedBy),
                expectedRev,
              ],
            );
      return rows[0] ? aliasOfRow(rows[0], fromPgText) : null;
    },

    sessionVersion,
    stickSession: async (agent, sessionKey, version, replace, at) => {
      // Two statements, not one: a conflicting insert waits for the other writer's commit, and only
      // a new statement's snapshot sees that writer's row.
      const rows = await query(
        `INSERT INTO ${s}.session_versions (agent, key_hash, session_key, version, assigned_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent, key_hash) DO ${
           replace ? 'UPDATE SET version = excluded.version, assigned_at = excluded.assigned_at' : 'NOTHING'
         } RETURNING version`,
        [pgText(agent), keyHash(sessionKey), pgText(sessionKey), pgText(version), at],
      );
      const stored = rows[0] ? fromPgText(String(rows[0].version)) : await sessionVersion(agent, sessionKey);
      return stored ?? fromPgText(pgText(version));
    },
    // starts_with, not LIKE: the actor id is user text (`%`, `_`); keys are `actorId\u0000sessionId`,
    // escaped by pgText one character at a time, so the escaped prefix is the escaped actor + `\0`.
    forgetActor: async (actorId) =>
      (
        await query(`DELETE FROM ${s}.session_versions WHERE starts_with(session_key, $1) RETURNING 1`, [
          pgText(`${actorId}\u0000`),
        ])
      ).length,
  };
}

/** Deployments and the workers that serve versions. */
function postgresDeploymentMethods({
  pool,
  s,
  ready,
  query,
  writeDeployment,
}: PostgresHelpers): Pick<
  DeploymentStore,
  'createDeployment' | 'deployment' | 'deployments' | 'updateDeployment' | 'announce' | 'retire' | 'workers'
> {
  return {
    createDeployment: async (d) => {
      if (impossibleId(d.deploymentId))
        throw new UserError('a deployment id cannot hold NUL', 'deploymentId');
      const rows = await query(
        `INSERT INTO ${s}.deployments (deployment_id, agent, alias, status, created_at, record, rev)
         VALUES ($1, $2, $3, $4, $5, $6, 1) ON CONFLICT DO NOTHING RETURNING 1`,
        [d.deploymentId, pgText(d.agent), pgText(d.alias), d.status, d.createdAt, deploymentJson(d, 1)],
      );
      return rows.length > 0;
    },
    deployment: async (id) => {
      if (impossibleId(id)) return null;
      const rows = await query(`SELECT * FROM ${s}.deployments WHERE deployment_id = $1`, [id]);
      return rows[0] ? deploymentOfRow(rows[0]) : null;
    },
    deployments: async ({ agent, active, limit = 100 } = {}) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (agent !== undefined) where.push(`agent = $${args.push(pgText(agent))}`);
      if (active) where.push(`status IN ${ACTIVE_SQL}`);
      const sql = `SELECT * FROM ${s}.deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, deployment_id DESC LIMIT $${args.push(limit)}`;
      return (await query(sql, args)).map(deploymentOfRow);
    },
    updateDeployment: async (d, expectedRev, alias) => {
      if (impossibleId(d.deploymentId)) return null;
      if (!alias) {
        const row = await writeDeployment(d, expectedRev, pool);
        return row ? deploymentOfRow(row) : null;
      }
      await ready();
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const row = await writeDeployment(d, expectedRev, c);
        if (row)
          await c.query(
            `INSERT INTO ${s}.agent_aliases AS old (agent, alias, weights, rev, updated_at, updated_by)
             VALUES ($1, $2, $3, 1, $4, $5)
             ON CONFLICT (agent, alias) DO UPDATE SET weights = excluded.weights, rev = old.rev + 1,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
            [pgText(d.agent), pgText(d.alias), weightsJson(alias.weights), d.updatedAt, pgText(alias.by)],
          );
        await c.query('COMMIT');
        return row ? deploymentOfRow(row) : null;
      } catch (error) {
        await c.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        c.release();
      }
    },

    announce: async (w) => {
      await query(
        `INSERT INTO ${s}.worker_announcements (owner, served, seen_at, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (owner) DO UPDATE SET served = excluded.served, seen_at = excluded.seen_at,
           expires_at = excluded.expires_at`,
        [pgText(w.owner), JSON.stringify(w.served), w.seenAt, w.expiresAt],
      );
    },
    retire: async (owner) => {
      await query(`DELETE FROM ${s}.worker_announcements WHERE owner = $1`, [pgText(owner)]);
    },
    workers: async (now) =>
      (
        await query(
          `SELECT * FROM ${s}.worker_announcements WHERE expires_at > $1 ORDER BY owner COLLATE "C"`,
          [now],
        )
      ).map((r) => workerOfRow(r, fromPgText)),
  };
}

/**
 * The row mapping both SQL adapters of the deployment port share (store/sqlite/deployments.ts,
 * store/postgres/deployments.ts), so the two never drift. `text` reads a text column a caller
 * wrote (agent, version, alias, session key, owner): PostgreSQL stores it escaped
 * (store/postgres/text.ts), SQLite as is. JSON columns (definitions, weights, whole deployment
 * records, served lists) are `JSON.stringify` text and read back exactly (store/text.ts).
 */
import type { AliasRecord, DeploymentRecord, VersionRecord, WorkerAnnouncement } from './deployment-port.ts';

/** A row of one of the deployment tables as an SQL driver returns it. */
export type DeploymentSqlRow = Record<string, string | number | bigint | boolean | null>;

type Text = (v: string) => string;
const same: Text = (v) => v;

/** The statuses in which a deployment still moves, as an SQL list (the partial unique index's). */
export const ACTIVE_SQL = "('in_progress', 'paused')";

export function versionOfRow(r: DeploymentSqlRow, text: Text = same): VersionRecord {
  return {
    agent: text(String(r.agent)),
    version: text(String(r.version)),
    digest: text(String(r.digest)),
    labeled: r.labeled === true || Number(r.labeled) === 1,
    definition: JSON.parse(String(r.definition)) as unknown,
    source: r.source === null || r.source === undefined ? null : text(String(r.source)),
    createdAt: Number(r.created_at),
  };
}

export function aliasOfRow(r: DeploymentSqlRow, text: Text = same): AliasRecord {
  return {
    agent: text(String(r.agent)),
    alias: text(String(r.alias)),
    weights: JSON.parse(String(r.weights)) as Record<string, number>,
    rev: Number(r.rev),
    updatedAt: Number(r.updated_at),
    updatedBy: text(String(r.updated_by)),
  };
}

/** A deployment is its JSON record (read back exactly); the columns beside it serve lookups and the rev. */
export function deploymentOfRow(r: DeploymentSqlRow): DeploymentRecord {
  return { ...(JSON.parse(String(r.record)) as DeploymentRecord), rev: Number(r.rev) };
}

/** The JSON a deployment row holds (its rev lives in its own column). */
export const deploymentJson = (d: DeploymentRecord, rev: number): string => JSON.stringify({ ...d, rev });

export function workerOfRow(r: DeploymentSqlRow, text: Text = same): WorkerAnnouncement {
  return {
    owner: text(String(r.owner)),
    served: JSON.parse(String(r.served)) as string[],
    seenAt: Number(r.seen_at),
    expiresAt: Number(r.expires_at),
  };
}

/** The weights an alias row holds, as written (JSON text). */
export const weightsJson = (w: Record<string, number>): string => JSON.stringify(w);

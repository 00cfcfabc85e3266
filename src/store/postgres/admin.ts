/** Small administrative helpers around a PostgreSQL store: reachability, dropping a schema. */
import pg from 'pg';
import { ident } from './schema.ts';

/** True when a server answers at `url` within `timeoutMs`. */
export async function postgresReachable(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drop schemas with everything in them (tests, and tearing down a shared database's tenant). */
export async function dropPostgresSchemas(url: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${ident(s)} CASCADE`);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Terminate every backend of the given application names (chaos: a lost database connection).
 * Returns how many were terminated.
 */
export async function terminateBackends(url: string, applicationPrefix: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'switchboard-chaos-admin' });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE $1`,
      [`${applicationPrefix}%`],
    );
    return rows.filter((r) => r.ok).length;
  } finally {
    await client.end().catch(() => {});
  }
}

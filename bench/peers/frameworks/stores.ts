// Where the durable adapters keep their state: a fresh temporary directory (the SQLite ones), or a
// schema of their own on one PostgreSQL database (BENCH_DATABASE_URL, by default the local server's
// `test` database), named after the process so that concurrent children never share tables, and
// dropped when the adapter closes. Not an adapter itself: no framework is named `stores`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh temporary directory; `remove` deletes it with everything in it. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

async function dropSchemas(schemas: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * `bench_<prefix>_<pid>` (plus any `extra` suffixed schemas the framework creates beside it, e.g.
 * a queue's), emptied of any leftover from an earlier process with the same pid. The framework
 * creates its tables there itself; `drop` removes the schemas.
 */
export async function pgSchema(
  prefix: string,
  extra: readonly string[] = [],
): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const schema = `bench_${prefix}_${process.pid}`;
  const all = [schema, ...extra.map((suffix) => `${schema}_${suffix}`)];
  await dropSchemas(all);
  return { url: DATABASE_URL, schema, drop: () => dropSchemas(all) };
}

/**
 * The policy ledger of a store: in the store's own database (SQLite file, PostgreSQL schema), or
 * in memory for the memory store. PostgreSQL is reached through the store's pool; this module
 * loads no driver of its own.
 */
import type { PolicyLedger } from './ledger-port.ts';
import type { Store } from './ports.ts';
import { createMemoryLedger } from './memory/ledger.ts';
import { createPostgresLedger } from './postgres/ledger.ts';
import { ident } from './postgres/schema.ts';
import { createSqliteLedger } from './sqlite/ledger.ts';
import { SqliteStore } from './sqlite/store.ts';
import type pg from 'pg';

export type { PolicyLedger } from './ledger-port.ts';

export function ledgerFor(store: Store): PolicyLedger {
  if (store instanceof SqliteStore) return createSqliteLedger(store.db);
  if (store.kind === 'postgres') {
    const pgStore = store as Store & { pool: pg.Pool; schema: string };
    return createPostgresLedger(pgStore.pool, ident(pgStore.schema));
  }
  return createMemoryLedger();
}

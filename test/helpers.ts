/** Shared test helpers: a system on each store adapter, journal queries. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalEvent, EventType, EventOf } from '../src/core/events.ts';
import { createSystem, type System, type SystemOptions } from '../src/system.ts';
import { createMemoryStore } from '../src/store/memory/store.ts';
import { createSqliteStore } from '../src/store/sqlite/store.ts';
import { createPostgresStore } from '../src/store/postgres/store.ts';
import { dropPostgresSchemas, postgresReachable } from '../src/store/postgres/admin.ts';
import type { Store } from '../src/store/ports.ts';
import type { Browser } from 'playwright-core';

/** PostgreSQL runs only where a server answers: `$SWITCHBOARD_TEST_DATABASE_URL` or the local `test` database. */
export const POSTGRES = 'postgres' as const;
export type Adapter = 'sqlite' | 'memory' | typeof POSTGRES;

/**
 * The adapters the engine suites run on: SQLite and memory. test/integration/postgres-engine.test.ts
 * sets `SWITCHBOARD_TEST_ADAPTERS=postgres` in its own process and reruns them on PostgreSQL.
 */
export const ADAPTERS: readonly Adapter[] =
  process.env.SWITCHBOARD_TEST_ADAPTERS === POSTGRES ? [POSTGRES] : (['sqlite', 'memory'] as const);

export const POSTGRES_URL =
  process.env.SWITCHBOARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Whether the test PostgreSQL server is reachable (checked once). */
export const postgresAvailable: Promise<boolean> = postgresReachable(POSTGRES_URL);

/** In CI (`CI` set, as CI services and .ci/run do) a missing service fails the run. */
const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * A service the tests need (PostgreSQL, Chromium). Missing in CI: the file fails. Missing locally:
 * the file reports one skipped test saying what is missing — never a pass with zero tests. Returns
 * whether the service is there; a file registers its tests only then (`{ skip: !available }`).
 */
export function requireService(available: boolean, missing: string): boolean {
  if (available) return true;
  if (IN_CI) throw new Error(`${missing}: CI requires it (.ci/run provides it)`);
  test(missing, { skip: 'service missing (with CI=true this fails)' }, () => {});
  return false;
}

/** PostgreSQL at {@link POSTGRES_URL}: `const postgres = await requirePostgres()`, see {@link requireService}. */
export async function requirePostgres(): Promise<boolean> {
  return requireService(await postgresAvailable, `PostgreSQL not reachable at ${POSTGRES_URL}`);
}

/** The Chromium the browser tests drive (`$SWITCHBOARD_CHROMIUM`, else Debian's). */
export const CHROMIUM = process.env.SWITCHBOARD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launch {@link CHROMIUM} headless for a browser test: a fresh temporary profile of its own
 * (playwright's --user-data-dir), nothing fetched in the background.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Chromium at {@link CHROMIUM}, see {@link requireService}. */
export function requireChromium(): boolean {
  return requireService(
    existsSync(CHROMIUM),
    `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set SWITCHBOARD_CHROMIUM)`,
  );
}

/** A fresh schema name per store: tests never see each other's rows. */
export const testSchema = (): string =>
  `sb_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

/**
 * A fresh store of the adapter; `env` is how the CLI opens the same store (its data dir or schema;
 * empty for the memory store, which no other process can open).
 */
export function makeStore(adapter: Adapter): {
  store: Store;
  env: Record<string, string>;
  cleanup: () => Promise<void>;
} {
  // Tests read back every run they made (one makes 2,000): no retention, as on the durable stores.
  // test/integration/memory-retention.test.ts covers the default bound.
  if (adapter === 'memory')
    return {
      store: createMemoryStore({ retention: { finishedRuns: Infinity } }),
      env: {},
      cleanup: async () => {},
    };
  if (adapter === 'postgres') {
    const schema = testSchema();
    const store = createPostgresStore({ url: POSTGRES_URL, schema, onError: () => {} });
    return {
      store,
      env: { SWITCHBOARD_DATABASE_URL: POSTGRES_URL, SWITCHBOARD_DATABASE_SCHEMA: schema },
      cleanup: async () => {
        await store.close();
        await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sb-test-'));
  const store = createSqliteStore({ path: join(dir, 'switchboard.db') });
  return {
    store,
    env: { SWITCHBOARD_DATA_DIR: dir },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Start a system on a fresh store of the given adapter; `close` stops it and removes the files. */
export async function startSystem(
  adapter: Adapter,
  options: Omit<SystemOptions, 'store'>,
): Promise<{ system: System; store: Store; env: Record<string, string>; close: () => Promise<void> }> {
  const { store, env, cleanup } = makeStore(adapter);
  const system = createSystem({
    pollMs: 50,
    errorRetryMs: 0,
    onError: () => {},
    onWarning: () => {},
    ...options,
    store,
  });
  await system.start();
  return {
    system,
    store,
    env,
    close: async () => {
      await system.stop();
      await cleanup();
    },
  };
}

export async function journal(system: System, runId: string): Promise<JournalEvent[]> {
  return system.store.journal.read(runId);
}

export function ofType<T extends EventType>(events: JournalEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

/**
 * Process roles on PostgreSQL, as functions the CLI calls with parsed options:
 * `switchboard migrate`, `switchboard gateway` (no workers), `switchboard worker [--agents a,b]
 * [--concurrency n]`. Each opens the store from `SWITCHBOARD_DATABASE_URL` (or `url`), and a worker
 * shuts down gracefully on SIGTERM/SIGINT: it stops claiming, lets in-flight steps commit (or hands
 * their wake-ups back), then closes its connections.
 */
import type { System, SystemOptions } from '../../system.ts';
import { createPostgresStore, type PostgresStore } from './store.ts';

export interface PgProcessOptions {
  /** Defaults to `$SWITCHBOARD_DATABASE_URL`. */
  url?: string;
  /** Defaults to `$SWITCHBOARD_DATABASE_SCHEMA`, else `switchboard`. */
  schema?: string;
}

/** The database URL, or a clear error naming the variable. */
export function databaseUrl(options: PgProcessOptions = {}): string {
  const url = options.url ?? process.env.SWITCHBOARD_DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url))
    throw new Error('SWITCHBOARD_DATABASE_URL must be a postgres:// URL for this command');
  return url;
}

/** Open the PostgreSQL store of this process. */
export function openPostgresStore(options: PgProcessOptions = {}): PostgresStore {
  return createPostgresStore({
    url: databaseUrl(options),
    schema: options.schema ?? process.env.SWITCHBOARD_DATABASE_SCHEMA ?? 'switchboard',
    applicationName: `switchboard-${process.env.SWITCHBOARD_ROLE ?? 'process'}`,
    onError: (e) => console.error(`[switchboard:postgres] ${e instanceof Error ? e.message : String(e)}`),
  });
}

/** `switchboard migrate`: apply pending migrations and exit; prints what it applied. */
export async function migrateCommand(options: PgProcessOptions = {}): Promise<number[]> {
  const store = createPostgresStore({
    url: databaseUrl(options),
    schema: options.schema ?? process.env.SWITCHBOARD_DATABASE_SCHEMA ?? 'switchboard',
    wakeups: false,
    notify: false,
  });
  try {
    const applied = await store.migrate();
    console.log(
      applied.length
        ? `applied migrations ${applied.join(', ')} to schema ${store.schema}`
        : 'schema is up to date',
    );
    return applied;
  } finally {
    await store.close();
  }
}

/**
 * The system options of a process role: `gateway` runs no workers; `worker` runs the named agents'
 * workers (all by default). `concurrency` overrides every served agent's per-process concurrency.
 * Pass the result to the composition root (e.g. `openApp({ system })` or `createSystem`).
 */
export function roleOptions(
  role: 'gateway' | 'worker' | 'serve',
  opts: { agents?: string[]; concurrency?: number; store: PostgresStore },
): Partial<SystemOptions> & { store: PostgresStore } {
  if (role === 'gateway') return { store: opts.store, workers: false };
  if (role === 'worker' && opts.agents?.length)
    return { store: opts.store, workers: { agents: opts.agents } };
  return { store: opts.store };
}

/** Apply `--concurrency n` to agent definitions (per worker process). */
export function withConcurrency<A extends { concurrency: number }>(agents: A[], concurrency?: number): A[] {
  if (concurrency === undefined) return agents;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--concurrency must be a positive integer');
  return agents.map((a) => ({ ...a, concurrency }));
}

/**
 * Run a started system until SIGTERM/SIGINT, then shut down gracefully: stop claiming, let running
 * steps finish or hand their wake-ups back (`system.stop()`), close the store.
 */
export async function runUntilSignal(system: System, store: PostgresStore): Promise<void> {
  await store.ready();
  await system.start();
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  await system.stop();
  await store.close();
}

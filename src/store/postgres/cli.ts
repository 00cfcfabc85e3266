/**
 * Process roles on PostgreSQL, as functions the CLI calls with the configured store:
 * `switchboard migrate`, and the graceful shutdown of `gateway` and `worker` processes: on
 * SIGTERM/SIGINT a process stops claiming, lets in-flight steps commit (or hands their wake-ups
 * back), then closes its connections.
 */
import { ConfigError } from '../../core/errors.ts';
import type { CompiledConfig } from '../../config.ts';
import { createPostgresStore } from './store.ts';

/** The configured PostgreSQL store, or a clear error saying how to configure one. */
export function postgresOf(config: CompiledConfig, command: string): { url: string; schema: string } {
  if (!config.store.url)
    throw new ConfigError(
      'store.url',
      `\`switchboard ${command}\` needs PostgreSQL: set store.url (or SWITCHBOARD_DATABASE_URL) to a postgres:// URL`,
    );
  return { url: config.store.url, schema: config.store.schema };
}

/** `switchboard migrate`: apply pending migrations and exit; prints what it applied. */
export async function migrateCommand(
  config: CompiledConfig,
  print: (line: string) => void,
): Promise<number[]> {
  const store = createPostgresStore({ ...postgresOf(config, 'migrate'), wakeups: false, notify: false });
  try {
    const applied = await store.migrate();
    print(
      applied.length
        ? `applied migrations ${applied.join(', ')} to schema ${store.schema}`
        : 'schema is up to date',
    );
    return applied;
  } finally {
    await store.close();
  }
}

/** Resolve on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}

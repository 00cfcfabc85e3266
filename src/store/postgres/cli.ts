/**
 * Process roles on PostgreSQL, as functions the CLI calls with the configured store:
 * `switchboard migrate`, and the check that a role needing PostgreSQL has it configured.
 */
import { ConfigError } from '../../core/errors.ts';
import { createPostgresStore } from './store.ts';

/** The part of the compiled configuration these commands read (src/config.ts `store`). */
export interface StoreSettings {
  store: { url?: string; schema: string };
}

/** The configured PostgreSQL store, or a clear error saying how to configure one. */
export function postgresOf(config: StoreSettings, command: string): { url: string; schema: string } {
  if (!config.store.url)
    throw new ConfigError(
      'store.url',
      `\`switchboard ${command}\` needs PostgreSQL: set store.url (or SWITCHBOARD_DATABASE_URL) to a postgres:// URL`,
    );
  return { url: config.store.url, schema: config.store.schema };
}

/** `switchboard migrate`: apply pending migrations and exit; prints what it applied. */
export async function migrateCommand(
  config: StoreSettings,
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

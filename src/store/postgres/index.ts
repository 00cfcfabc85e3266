/**
 * `switchboard-runtime/postgres`: the PostgreSQL store for library use, passed as `store` to
 * `createSystem` (the CLI opens it from `store.url`). A subpath of its own so that importing the
 * package does not load `pg` and pg-boss for systems that never use them.
 */
export { createPostgresStore, PostgresStore } from './store.ts';
export type { PostgresStoreOptions, PostgresHealth } from './store.ts';

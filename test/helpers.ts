/** Shared test helpers: a system on each store adapter, journal queries. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalEvent, EventType, EventOf } from '../src/core/events.ts';
import { createSystem, type System, type SystemOptions } from '../src/system.ts';
import { createMemoryStore } from '../src/store/memory/store.ts';
import { createSqliteStore } from '../src/store/sqlite/store.ts';
import type { Store } from '../src/store/ports.ts';

export const ADAPTERS = ['sqlite', 'memory'] as const;
export type Adapter = (typeof ADAPTERS)[number];

export function makeStore(adapter: Adapter): { store: Store; cleanup: () => Promise<void> } {
  if (adapter === 'memory') return { store: createMemoryStore(), cleanup: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'sb-test-'));
  const store = createSqliteStore({ path: join(dir, 'switchboard.db') });
  return {
    store,
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
): Promise<{ system: System; store: Store; close: () => Promise<void> }> {
  const { store, cleanup } = makeStore(adapter);
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

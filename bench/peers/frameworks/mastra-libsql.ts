// Mastra with @mastra/libsql: the mastra adapter's agents with a Memory on LibSQLStore, a local
// SQLite file (file: URL) in a fresh temporary directory per process. The store's own pragmas:
// WAL, synchronous=NORMAL (a committed write survives a process crash; compare
// switchboard-sqlite-normal).
import { LibSQLStore } from '@mastra/libsql';
import { Memory } from '@mastra/memory';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMastra } from './mastra.ts';
import { tempDir } from './stores.ts';
import type { Harness } from '../workload.ts';

export async function create(): Promise<Harness> {
  const dir = tempDir('mastra-bench');
  const storage = new LibSQLStore({ id: 'bench', url: pathToFileURL(join(dir.path, 'mastra.db')).href });
  await storage.init();
  return createMastra({
    memory: new Memory({ storage }),
    async close() {
      await storage.close();
      dir.remove();
    },
  });
}

// Mastra with @mastra/pg: the mastra adapter's agents with a Memory on PostgresStore, in a schema
// of this process's own.
import { Memory } from '@mastra/memory';
import { PostgresStore } from '@mastra/pg';
import { createMastra } from './mastra.ts';
import { pgSchema } from './stores.ts';
import type { Harness } from '../workload.ts';

export async function create(): Promise<Harness> {
  const db = await pgSchema('mastra');
  const storage = new PostgresStore({ id: 'bench', connectionString: db.url, schemaName: db.schema });
  await storage.init();
  return createMastra({
    memory: new Memory({ storage }),
    async close() {
      await storage.close();
      await db.drop();
    },
  });
}

// LangGraph with its PostgreSQL checkpointer (@langchain/langgraph-checkpoint-postgres): the
// langgraph adapter's supervisor graph, checkpointed to a schema of this process's own.
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { createLangGraph } from './langgraph.ts';
import { pgSchema } from './stores.ts';
import type { Harness } from '../workload.ts';

export async function create(): Promise<Harness> {
  const db = await pgSchema('lg');
  const checkpointer = PostgresSaver.fromConnString(db.url, { schema: db.schema });
  await checkpointer.setup();
  return createLangGraph({
    checkpointer,
    async close() {
      await checkpointer.end();
      await db.drop();
    },
  });
}

// LangGraph with its SQLite checkpointer (@langchain/langgraph-checkpoint-sqlite, on better-sqlite3):
// the langgraph adapter's supervisor graph, checkpointed to a file in a fresh temporary directory
// per process. The saver's own configuration: WAL, with better-sqlite3's synchronous=NORMAL
// (a committed checkpoint survives a process crash; compare switchboard-sqlite-normal).
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { join } from 'node:path';
import { createLangGraph } from './langgraph.ts';
import { tempDir } from './stores.ts';
import type { Harness } from '../workload.ts';

export async function create(): Promise<Harness> {
  const dir = tempDir('langgraph-bench');
  const checkpointer = SqliteSaver.fromConnString(join(dir.path, 'checkpoints.db'));
  return createLangGraph({
    checkpointer,
    async close() {
      checkpointer.db.close();
      dir.remove();
    },
  });
}

/**
 * The batch port's contract (test/contract/batches.contract.ts) on memory, SQLite and PostgreSQL:
 * issue 19's batch is recorded in every store alike.
 */
import { batchesContract } from '../contract/batches.contract.ts';
import { makeStore, requirePostgres, type Adapter } from '../helpers.ts';

const ADAPTERS: Adapter[] = ['memory', 'sqlite', ...((await requirePostgres()) ? ['postgres' as const] : [])];

for (const adapter of ADAPTERS) {
  batchesContract(adapter, async (fn) => {
    const { store, cleanup } = makeStore(adapter);
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  });
}

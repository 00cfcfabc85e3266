import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { storeContract } from '../contract/store.contract.ts';

storeContract('sqlite', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const store = createSqliteStore({ path: join(dir, 'switchboard.db'), clock });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

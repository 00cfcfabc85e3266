/** The store contract on PostgreSQL (own schema per test); without a server: fails in CI, skips locally. */
import { createPostgresStore } from '../../src/store/postgres/store.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { storeContract } from '../contract/store.contract.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';

if (await requirePostgres())
  storeContract('postgres', async (clock) => {
    const schema = testSchema();
    const store = createPostgresStore({ url: POSTGRES_URL, schema, clock, onError: () => {} });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
      },
    };
  });

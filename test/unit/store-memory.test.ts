import { createMemoryStore } from '../../src/store/memory/store.ts';
import { storeContract } from '../contract/store.contract.ts';

storeContract('memory', async (clock) => ({ store: createMemoryStore({ clock }), cleanup: async () => {} }));

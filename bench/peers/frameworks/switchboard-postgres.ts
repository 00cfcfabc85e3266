// Switchboard on its PostgreSQL store: every step committed to the database before the run goes on.
import { createSwitchboard } from './switchboard.ts';
import type { Harness } from '../workload.ts';

export const create = (): Promise<Harness> => createSwitchboard('postgres');

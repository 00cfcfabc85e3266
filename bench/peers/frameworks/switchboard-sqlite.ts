// Switchboard with its default, durable store: SQLite in a file (fresh per process).
import { createSwitchboard } from './switchboard.ts';
import type { Harness } from '../workload.ts';

export const create = (): Promise<Harness> => createSwitchboard('sqlite');

// Switchboard on its default, durable store (SQLite, synchronous=FULL), realistic workload.
import { createSwitchboard } from './switchboard.ts';
import type { Harness } from '../realistic.ts';

export { limitations } from './switchboard.ts';
export const create = (): Promise<Harness> => createSwitchboard('sqlite');

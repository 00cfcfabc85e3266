// Switchboard with the in-memory store, realistic workload.
import { createSwitchboard } from './switchboard.ts';
import type { Harness } from '../realistic.ts';

export { limitations } from './switchboard.ts';
export const create = (): Promise<Harness> => createSwitchboard('memory');

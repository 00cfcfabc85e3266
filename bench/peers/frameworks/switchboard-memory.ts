// Switchboard with the in-memory store: the same engine and journal, no disk.
import { createSwitchboard } from './switchboard.ts';
import type { Harness } from '../workload.ts';

export const create = (): Promise<Harness> => createSwitchboard('memory');

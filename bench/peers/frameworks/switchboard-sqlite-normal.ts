// Diagnostic variant: Switchboard on SQLite with synchronous=NORMAL (no fsync per commit; safe
// against a process crash, not against power loss). The gap to switchboard-sqlite is fsync time.
import { createSwitchboard } from './switchboard.ts';
import type { Harness } from '../workload.ts';

export const create = (): Promise<Harness> => createSwitchboard('sqlite-normal');

/**
 * Memory back to the system once a serving process goes idle.
 *
 * Under load V8 grows its heap well past what is live — the young generation to its maximum, the
 * old generation to a multiple of the live set — and it does not shrink again on its own while the
 * process sits idle: nothing allocates, so nothing triggers a collection. A gateway + worker that
 * served 100,000 runs held ~570 MB at rest with ~60 MB live (bench/soak.ts). So the long-running
 * commands (`serve`, `gateway`, `worker`, `dev`, `demo`) watch event-loop utilization: after a window of
 * work followed by a quiet window, one memory-reducing full collection, which also gives the young
 * generation's pages back. Never more than one per busy → idle transition, never under load.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type Gc = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: string;
}) => void;

/** V8's `gc` without `--expose-gc` on the command line (the flag applies to new contexts). */
export function exposeGc(): Gc | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as Gc | undefined;
    return typeof gc === 'function' ? gc : null;
  } catch {
    return null;
  }
}

export interface IdleCompactionOptions {
  /** Length of a window, ms (default 2,000). */
  windowMs?: number;
  /** Event-loop utilization below which a window is quiet (default 0.02). */
  quietBelow?: number;
  /** The collection to run (default: V8's, exposed at start); tests pass a counter. */
  gc?: Gc;
}

/** Starts the watcher; returns what stops it. Its timer never keeps the process alive. */
export function startIdleCompaction(options: IdleCompactionOptions = {}): () => void {
  const gc = options.gc ?? exposeGc();
  if (!gc) return () => {};
  const quietBelow = options.quietBelow ?? 0.02;
  let last = performance.eventLoopUtilization();
  let workedSinceGc = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    if (utilization >= quietBelow) workedSinceGc = true;
    else if (workedSinceGc) {
      workedSinceGc = false;
      // 'last-resort' is V8's memory-reducing collection: full mark-compact, shrinks new space.
      gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      last = performance.eventLoopUtilization();
    }
  }, options.windowMs ?? 2_000);
  timer.unref();
  return () => clearInterval(timer);
}

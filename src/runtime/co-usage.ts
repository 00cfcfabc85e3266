/**
 * Co-usage priors a running system learns from its own journal (`routing.coUsage`): which tools the
 * recent completed runs called together. Read from the store, so every process of a PostgreSQL
 * deployment learns the same priors from the same runs; refreshed on a timer, never on the path of
 * a decision (a retrieval reads the last priors learned).
 */
import { completedRunTools, learnCoUsage, type CoUsagePriors } from '../routing/links.ts';
import type { Store } from '../store/ports.ts';

/** `routing.coUsage` when it is an object; `true` takes every default. */
export interface CoUsageOptions {
  /** The most recent completed runs learned from (500). */
  runs?: number;
  /** How often the priors are learned again, in ms (60 s). */
  refreshMs?: number;
  /** Runs of a tool before its companions count (2: one run is an anecdote). */
  minRuns?: number;
}

export const DEFAULT_CO_USAGE = { runs: 500, refreshMs: 60_000, minRuns: 2 } as const;

export interface CoUsageLearner {
  /** The priors last learned (undefined before the first refresh). */
  priors(): CoUsagePriors | undefined;
  /** Learn again from the store now. */
  refresh(): Promise<void>;
  /** Learn once, then again every `refreshMs` until {@link CoUsageLearner.stop}; errors go to `onError`. */
  start(onError: (error: unknown) => void): Promise<void>;
  stop(): void;
}

export function createCoUsageLearner(store: Store, options: CoUsageOptions): CoUsageLearner {
  const { runs, refreshMs, minRuns } = { ...DEFAULT_CO_USAGE, ...options };
  let current: CoUsagePriors | undefined;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  // The tools of each completed run learned from: an ended journal does not change (an erasure
  // redacts payloads, not tool names), so a refresh reads only the runs that completed since.
  let known = new Map<string, string[]>();
  const learn = async (): Promise<void> => {
    const rows = await store.runs.list({ status: 'completed', limit: runs });
    const fresh = rows.filter((r) => !known.has(r.runId));
    const journals = await Promise.all(fresh.map((r) => store.journal.read(r.runId)));
    const next = new Map<string, string[]>();
    fresh.forEach((r, i) => next.set(r.runId, completedRunTools(journals[i] ?? [])[0] ?? []));
    for (const r of rows) if (!next.has(r.runId)) next.set(r.runId, known.get(r.runId) ?? []);
    known = next;
    current = learnCoUsage([...known.values()], minRuns);
  };
  const refresh = (): Promise<void> => {
    // One refresh at a time: a slow store never piles reads up behind the timer.
    inFlight ??= learn().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
  return {
    priors: () => current,
    refresh,
    async start(onError) {
      if (timer) return;
      await refresh().catch(onError);
      timer = setInterval(() => void refresh().catch(onError), refreshMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

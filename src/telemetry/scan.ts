/** Reading the journals of the runs active in a time window (health, usage, aggregate graph). */
import type { JournalEvent } from '../core/events.ts';
import type { RunRow, Store } from '../store/ports.ts';

/** Default cap on how many runs a window scan reads (newest first). */
export const DEFAULT_MAX_RUNS = 5000;

/**
 * Runs updated at or after `sinceMs` (newest created first, at most `maxRuns`), each with its
 * journal. Reads the runs projection, then one journal per run: meant for CLI, health and
 * dashboards, not for a hot path.
 */
export async function scanRuns(
  store: Store,
  options: { sinceMs: number; maxRuns?: number },
): Promise<{ row: RunRow; events: JournalEvent[] }[]> {
  const rows = await store.runs.list({ limit: options.maxRuns ?? DEFAULT_MAX_RUNS });
  const out: { row: RunRow; events: JournalEvent[] }[] = [];
  for (const row of rows) {
    if (row.updatedAt < options.sinceMs) continue;
    out.push({ row, events: await store.journal.read(row.runId) });
  }
  return out;
}

/** Durations (`15m`, `24h`…): one parser, in core/duration.ts. */
export { parseDuration } from '../core/duration.ts';

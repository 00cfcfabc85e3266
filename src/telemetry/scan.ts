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

/** Parse a duration such as `15m`, `24h`, `7d`, `90s` or plain milliseconds into ms. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(value.trim());
  if (!m) throw new Error(`invalid duration "${value}" (use e.g. 90s, 15m, 24h, 7d)`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] ?? 'ms'] ?? 1;
  return n * unit;
}

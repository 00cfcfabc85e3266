/**
 * Journal fixtures: recorded run trees stored as JSON (test/fixtures/journals), replayed in CI so
 * a change that alters behaviour, or can no longer read an old journal, is caught.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalEvent } from '../core/events.ts';
import { replayRun, type ReplayConfig, type RunReplay } from './replay.ts';

export const FIXTURE_FORMAT = 'switchboard.journal-fixture';

export interface JournalFixture {
  format: typeof FIXTURE_FORMAT;
  version: 1;
  /** The journal event schema version the runs were written with. */
  eventSchemaVersion: number;
  name: string;
  description: string;
  /** Which system recorded it (the replay needs the same agents). */
  system: string;
  rootRunId: string;
  /** Every run of the tree, by id. */
  runs: Record<string, JournalEvent[]>;
}

/** Load every `*.json` fixture of a directory, in name order. */
export function loadFixtures(dir: string): JournalFixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const fixture = JSON.parse(readFileSync(join(dir, f), 'utf8')) as JournalFixture;
      if (fixture.format !== FIXTURE_FORMAT) throw new Error(`${f}: not a journal fixture`);
      return fixture;
    });
}

/** Replay a fixture's root run (and its delegated runs) against a configuration. */
export function replayFixture(fixture: JournalFixture, config: ReplayConfig): Promise<RunReplay> {
  return replayRun(
    async (runId) => {
      const events = fixture.runs[runId];
      if (!events) throw new Error(`fixture ${fixture.name} has no journal for run ${runId}`);
      return events;
    },
    fixture.rootRunId,
    config,
  );
}

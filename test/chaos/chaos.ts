/**
 * `npm run chaos -- --runs 50 --json`: run the chaos workload in a child process that SIGKILLs
 * itself at seeded random fault points, restart it until every run has ended, then check the
 * journal and the ledger: every run completed, no effect happened twice for one key, none lost.
 *
 * `npm run chaos -- --store postgres --workers 3 --runs 100 --json`: the multi-process chaos on
 * PostgreSQL (test/chaos/postgres/chaos-pg.ts; `--terminations`, `--kills`, `--crash-every`).
 * The exit code is non-zero when a run did not complete, an effect is duplicated or lost, or a
 * step is journaled twice. `SWITCHBOARD_CHAOS_BREAK_IDEMPOTENCY=1` (test-only) makes the tools
 * ignore their idempotency key, to show that the check catches duplicates.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { journalCounts } from './journal-check.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '50' },
    seed: { type: 'string' },
    p: { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'max-restarts': { type: 'string', default: '400' },
    store: { type: 'string', default: 'sqlite' },
    workers: { type: 'string' },
    terminations: { type: 'string', default: '10' },
    kills: { type: 'string', default: '20' },
    'crash-every': { type: 'string', default: '10' },
  },
  strict: true,
});
if (values.store !== 'sqlite' && values.store !== 'postgres')
  throw new Error('--store must be sqlite or postgres');
if (values.store === 'postgres') {
  // Many worker processes on a real PostgreSQL, SIGKILLed at fault points, plus pg_terminate_backend.
  const { runPostgresChaos } = await import('./postgres/chaos-pg.ts');
  const report = await runPostgresChaos({
    workers: Number(values.workers ?? 3),
    runs: Number(values.runs),
    terminations: Number(values.terminations),
    kills: Number(values.kills),
    crashEvery: Number(values['crash-every']),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values.p ? { p: Number(values.p) } : {}),
    ...(values.json ? {} : { log: (l: string) => console.error(`[chaos] ${l}`) }),
  });
  console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
  process.exit(report.ok ? 0 : 1);
}
const runs = Number(values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 1e9) : Number(values.seed);
const p = Number(values.p ?? '0.02');
const maxRestarts = Number(values['max-restarts']);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
if (!Number.isFinite(seed)) throw new Error('--seed must be a number');
if (!(p >= 0 && p < 1)) throw new Error('--p must be in [0,1)');

const dir = mkdtempSync(join(tmpdir(), 'sb-chaos-'));
const worker = new URL('./worker.ts', import.meta.url).pathname;
const log = (line: string): void => {
  if (!values.json) console.log(line);
};

function life(i: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [worker, dir, String(runs)], {
      env: {
        ...process.env,
        SWITCHBOARD_FAULTS: `seed=${seed + i},p=${p}`,
        SB_CHAOS_CRASH_EVERY: values['crash-every'],
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

let kills = 0;
let finished = false;
for (let i = 0; i <= maxRestarts; i++) {
  const { code, signal } = await life(i);
  if (signal === 'SIGKILL') {
    kills++;
    continue;
  }
  if (code !== 0) throw new Error(`chaos worker exited with code ${code} (not a fault kill)`);
  finished = true;
  break;
}

const store = createSqliteStore({ path: join(dir, 'switchboard.db') });
const all = await store.runs.list({ limit: 100_000 });
const roots = all.filter((r) => !r.parentRunId);
const completed = roots.filter((r) => r.status === 'completed').length;
const journal = { duplicateRows: 0, seqGaps: 0, inDoubtReruns: 0, reconciled: 0, needsAttention: 0 };
for (const r of all) {
  const c = journalCounts(await store.journal.read(r.runId));
  journal.duplicateRows += c.duplicateRows;
  journal.seqGaps += c.seqGaps;
  journal.inDoubtReruns += c.inDoubtReruns;
  journal.reconciled += c.reconciledApplied + c.reconciledNotApplied;
  journal.needsAttention += c.needsAttention;
}
await store.close();
const ledger = new DatabaseSync(join(dir, 'ledger.db'));
const duplicateEffects = (
  ledger
    .prepare('SELECT count(*) AS n FROM (SELECT key FROM ledger GROUP BY key HAVING count(*) > 1)')
    .get() as { n: number }
).n;
const effects = (ledger.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n;
ledger.close();
// Charge, reserve and notice: one effect each per run.
const expectedEffects = runs * 3;
const result = {
  runs,
  completed,
  duplicateEffects,
  inDoubtFlagged: journal.needsAttention,
  inDoubtReruns: journal.inDoubtReruns,
  reconciled: journal.reconciled,
  needsAttention: journal.needsAttention,
  duplicateJournalRows: journal.duplicateRows,
  seqGaps: journal.seqGaps,
  seed,
  kills,
  effects,
  expectedEffects,
};
if (values.json) console.log(JSON.stringify(result));
else
  log(
    `chaos: ${completed}/${runs} completed, ${kills} kills, ${effects}/${expectedEffects} effects, ${duplicateEffects} duplicate, ${journal.inDoubtReruns} in-doubt re-runs, ${journal.reconciled} reconciled, ${journal.needsAttention} needing attention, ${journal.duplicateRows} duplicate journal rows (seed ${seed})`,
  );
if (!values.keep) rmSync(dir, { recursive: true, force: true });
else log(`kept ${dir}`);
// The verdict includes the effect total: a duplicate or a lost effect fails the run.
process.exitCode =
  finished &&
  completed === runs &&
  roots.length === runs &&
  duplicateEffects === 0 &&
  effects === expectedEffects &&
  journal.duplicateRows === 0 &&
  journal.seqGaps === 0
    ? 0
    : 1;

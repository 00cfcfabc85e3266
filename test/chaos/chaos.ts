/**
 * `npm run chaos -- --runs 50 --json`: run the chaos workload in a child process that SIGKILLs
 * itself at seeded random fault points, restart it until every run has ended, then check the
 * journal and the ledger: every run completed, no effect happened twice for one key.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DatabaseSync } from 'node:sqlite';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '50' },
    seed: { type: 'string' },
    p: { type: 'string', default: '0.02' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'max-restarts': { type: 'string', default: '400' },
    store: { type: 'string', default: 'sqlite' },
    workers: { type: 'string' },
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
    terminations: 10,
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values.json ? {} : { log: (l: string) => console.error(`[chaos] ${l}`) }),
  });
  console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
  process.exit(report.ok ? 0 : 1);
}
const runs = Number(values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 1e9) : Number(values.seed);
const p = Number(values.p);
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
      env: { ...process.env, SWITCHBOARD_FAULTS: `seed=${seed + i},p=${p}` },
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

const db = new DatabaseSync(join(dir, 'switchboard.db'));
const roots = db.prepare('SELECT run_id, status FROM runs WHERE parent_run_id IS NULL').all() as {
  run_id: string;
  status: string;
}[];
const completed = roots.filter((r) => r.status === 'completed').length;
const inDoubtFlagged = (
  db.prepare("SELECT count(*) AS n FROM events WHERE type = 'run.needs_attention'").get() as { n: number }
).n;
db.close();
const ledger = new DatabaseSync(join(dir, 'ledger.db'));
const duplicateEffects = (
  ledger
    .prepare('SELECT count(*) AS n FROM (SELECT key FROM ledger GROUP BY key HAVING count(*) > 1)')
    .get() as { n: number }
).n;
const effects = (ledger.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n;
ledger.close();
const result = { runs, completed, duplicateEffects, inDoubtFlagged, seed, kills, effects };
if (values.json) console.log(JSON.stringify(result));
else
  log(
    `chaos: ${completed}/${runs} completed, ${kills} kills, ${duplicateEffects} duplicate effects, ${inDoubtFlagged} in-doubt calls flagged, ${effects} effects (seed ${seed})`,
  );
if (!values.keep) rmSync(dir, { recursive: true, force: true });
else log(`kept ${dir}`);
process.exitCode = finished && completed === runs && roots.length === runs && duplicateEffects === 0 ? 0 : 1;

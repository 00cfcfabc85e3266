/**
 * Multi-process chaos on PostgreSQL: a gateway (this process) submits runs while N worker
 * processes advance them on one schema. Workers die by SIGKILL at random fault points and at
 * random times (and are restarted), and every connection of the system is terminated with
 * `pg_terminate_backend` several times. At the end: every run must complete, with 0 duplicate
 * effects of the idempotent tool and 0 duplicate journal rows.
 *
 *   node test/chaos/postgres/chaos-pg.ts [--workers 3] [--runs 100] [--terminations 10] [--seed n] [--json]
 *
 * Exported as {@link runPostgresChaos} so `npm run chaos -- --store postgres …` can dispatch here.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { JournalEvent } from '../../../src/core/events.ts';
import { mulberry32 } from '../../../src/runtime/faults.ts';
import { dropPostgresSchemas, terminateBackends } from '../../../src/store/postgres/admin.ts';
import { createPostgresStore } from '../../../src/store/postgres/store.ts';
import { createSystem } from '../../../src/system.ts';
import { chaosAgents, createLedger, effectsTable } from './workload.ts';

export interface PostgresChaosOptions {
  url?: string;
  workers?: number;
  runs?: number;
  terminations?: number;
  seed?: number;
  /** Fault probability per fault point in the workers. */
  p?: number;
  keepSchema?: boolean;
  log?: (line: string) => void;
}

export interface PostgresChaosReport {
  store: 'postgres';
  workers: number;
  runs: number;
  completed: number;
  otherStatus: Record<string, number>;
  workerDeaths: { faultPoint: number; killed: number };
  terminations: number;
  backendsTerminated: number;
  toolCalls: number;
  effects: number;
  duplicateEffects: number;
  inDoubtReruns: number;
  duplicateJournalRows: number;
  seqGaps: number;
  seconds: number;
  ok: boolean;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Run the chaos scenario and report; `ok` is the pass/fail verdict. */
export async function runPostgresChaos(opts: PostgresChaosOptions = {}): Promise<PostgresChaosReport> {
  const url = opts.url ?? process.env.SWITCHBOARD_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const workers = opts.workers ?? 3;
  const runs = opts.runs ?? 100;
  const terminations = opts.terminations ?? 10;
  const seed = opts.seed ?? Date.now() % 100_000;
  const random = mulberry32(seed);
  const log = opts.log ?? (() => {});
  const schema = `sb_chaos_${Date.now().toString(36)}`;
  const app = `switchboard-chaos-${schema}`;
  const started = Date.now();
  await createLedger(url, schema);
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: app });
  pool.on('error', () => {});
  const store = createPostgresStore({ url, schema, applicationName: app, onError: () => {} });
  await store.ready();
  const { agents, model } = chaosAgents(pool, schema);
  const gateway = createSystem({ agents, model, store, workers: false, pollMs: 200, onWarning: () => {} });
  await gateway.start();

  const deaths = { faultPoint: 0, killed: 0 };
  const children = new Set<ChildProcess>();
  let stopping = false;
  let spawned = 0;
  const spawnWorker = (): void => {
    const child = fork(WORKER, [], {
      env: {
        ...process.env,
        SB_CHAOS_URL: url,
        SB_CHAOS_SCHEMA: schema,
        SB_CHAOS_APP: app,
        SWITCHBOARD_FAULTS: `seed=${seed * 31 + spawned++},p=${opts.p ?? 0.01}`,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.add(child);
    child.on('exit', (_code, signal) => {
      children.delete(child);
      if (stopping) return;
      // A fault point kills with SIGKILL from inside; the driver's kills are counted where they happen.
      if (signal === 'SIGKILL' && !(child as ChildProcess & { killedByDriver?: boolean }).killedByDriver)
        deaths.faultPoint++;
      spawnWorker();
    });
  };
  for (let i = 0; i < workers; i++) spawnWorker();

  const ids: string[] = [];
  for (let i = 0; i < runs; i++) {
    ids.push(
      (await gateway.submit({ actorId: `u${i % 7}`, sessionId: `s${i}`, input: `charge ${i}` })).runId,
    );
  }
  log(`submitted ${runs} runs to ${workers} workers (seed ${seed})`);

  // Chaos while the runs go: random SIGKILLs of workers and terminations of every connection.
  let backendsTerminated = 0;
  let done = false;
  const chaos = (async () => {
    let terms = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 100 + random() * 200));
      if (done) break;
      if (terms < terminations) {
        backendsTerminated += await terminateBackends(url, app).catch(() => 0);
        terms++;
        log(`terminated connections (${terms}/${terminations})`);
      }
      if (random() < 0.5) {
        const list = [...children];
        const victim = list[Math.floor(random() * list.length)];
        if (victim) {
          (victim as ChildProcess & { killedByDriver?: boolean }).killedByDriver = true;
          victim.kill('SIGKILL');
          deaths.killed++;
        }
      }
    }
    return terms;
  })();

  const otherStatus: Record<string, number> = {};
  let completed = 0;
  const deadline = AbortSignal.timeout(Math.max(120_000, runs * 2000));
  for (const id of ids) {
    const view = await gateway.wait(id, { signal: deadline }).catch(() => gateway.get(id));
    if (view.status === 'completed') completed++;
    else otherStatus[view.status] = (otherStatus[view.status] ?? 0) + 1;
  }
  done = true;
  const termsDone = await chaos;
  stopping = true;
  for (const c of children) c.kill('SIGKILL');

  let duplicateJournalRows = 0;
  let seqGaps = 0;
  let inDoubtReruns = 0;
  for (const id of ids) {
    const events = await store.journal.read(id);
    duplicateJournalRows += duplicateRows(events);
    seqGaps += events.filter((e, i) => e.seq !== i + 1).length;
    inDoubtReruns += events.filter(
      (e) => e.type === 'tool.started' && (e.data as { recovery?: string }).recovery !== undefined,
    ).length;
  }
  const { rows } = await pool.query<{ effects: number; applied: number; calls: number }>(
    `SELECT count(*)::int AS effects, coalesce(sum(applied), 0)::int AS applied, coalesce(sum(calls), 0)::int AS calls
     FROM ${effectsTable(schema)}`,
  );
  const ledger = rows[0] ?? { effects: 0, applied: 0, calls: 0 };
  await gateway.stop();
  await store.close();
  await pool.end();
  if (!opts.keepSchema) await dropPostgresSchemas(url, [schema, `${schema}_boss`]);
  const report: PostgresChaosReport = {
    store: 'postgres',
    workers,
    runs,
    completed,
    otherStatus,
    workerDeaths: deaths,
    terminations: termsDone,
    backendsTerminated,
    toolCalls: ledger.calls,
    effects: ledger.effects,
    duplicateEffects: ledger.applied - ledger.effects,
    inDoubtReruns,
    duplicateJournalRows,
    seqGaps,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ok: false,
  };
  report.ok =
    completed === runs &&
    report.duplicateEffects === 0 &&
    ledger.effects === runs &&
    duplicateJournalRows === 0 &&
    seqGaps === 0 &&
    termsDone >= Math.min(terminations, 1);
  return report;
}

/** A second record of one step: an outcome of the same call attempt, a second submission, route, start or end. */
function duplicateRows(events: JournalEvent[]): number {
  const seen = new Set<string>();
  let dups = 0;
  for (const e of events) {
    const d = e.data as { callId?: string; attempt?: number; recovery?: string };
    let key: string | null = null;
    if (e.type === 'tool.started') key = `${e.type}:${d.callId}:${d.attempt}:${d.recovery ?? ''}:${e.seq}`;
    if (e.type === 'tool.succeeded' || e.type === 'tool.failed') key = `${e.type}:${d.callId}:${d.attempt}`;
    if (['run.submitted', 'route.decided', 'agent.started', 'run.completed', 'run.failed'].includes(e.type))
      key = e.type;
    if (key === null) continue;
    if (seen.has(key)) dups++;
    seen.add(key);
  }
  return dups;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '3' },
      runs: { type: 'string', default: '100' },
      terminations: { type: 'string', default: '10' },
      seed: { type: 'string' },
      p: { type: 'string' },
      json: { type: 'boolean', default: false },
      store: { type: 'string', default: 'postgres' },
    },
  });
  const report = await runPostgresChaos({
    workers: Number(values.workers),
    runs: Number(values.runs),
    terminations: Number(values.terminations),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values.p ? { p: Number(values.p) } : {}),
    ...(values.json ? {} : { log: (l: string) => console.error(`[chaos] ${l}`) }),
  });
  console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
  process.exit(report.ok ? 0 : 1);
}

/**
 * Multi-process chaos on PostgreSQL: a gateway (this process) submits runs while N worker
 * processes advance them on one schema. Workers die by SIGKILL at random fault points, at
 * deterministic spots inside the tools (see workload.ts) and at random times (and are restarted);
 * every connection of the system is terminated with `pg_terminate_backend` several times; this
 * process resolves every run that needs attention, as an operator would, by checking the
 * downstream ledger. At the end, counted from the ledger (every execution, one row each, in a
 * schema of its own) and the journal: every run completed, every succeeded call took effect
 * exactly once (no duplicate, none lost), no step journaled twice, no seq gap.
 *
 *   node test/chaos/postgres/chaos-pg.ts [--workers 3] [--runs 100] [--terminations 10] [--seed n] [--json]
 *
 * Exported as {@link runPostgresChaos} so `npm run chaos -- --store postgres …` dispatches here.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { mulberry32 } from '../../../src/runtime/faults.ts';
import { dropPostgresSchemas, terminateBackends } from '../../../src/store/postgres/admin.ts';
import { createPostgresStore } from '../../../src/store/postgres/store.ts';
import { createSystem, type System } from '../../../src/system.ts';
import { journalCounts } from '../journal-check.ts';
import { chaosModel } from '../workload.ts';
import {
  BREAK_IDEMPOTENCY_ENV,
  chaosAgents,
  createLedger,
  effectFor,
  ledgerCalls,
  ledgerCounts,
  ledgerSchema,
} from './workload.ts';

export interface PostgresChaosOptions {
  url?: string;
  workers?: number;
  runs?: number;
  terminations?: number;
  /** Workers the driver SIGKILLs at random moments (besides the fault points and crash spots). */
  kills?: number;
  seed?: number;
  /** Fault probability per fault point in the workers. */
  p?: number;
  /** Deterministic crashes inside the tools for runs i mod crashEvery in 1..5 (0: none). */
  crashEvery?: number;
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
  /** Tool executions recorded by the ledger (idempotent re-runs included). */
  executions: number;
  effects: number;
  expectedEffects: number;
  duplicateEffects: number;
  /** Succeeded calls (journal) with no effect in the ledger. */
  lostEffects: number;
  /** Effects of calls the journal does not show as succeeded. */
  unjournaledEffects: number;
  inDoubtReruns: number;
  /** In-doubt calls settled by `reconcile`: found applied, and found not applied (then re-run). */
  reconciled: number;
  reconciledApplied: number;
  reconciledNotApplied: number;
  /** Invocations of the `reconcile` hook (the ledger's count). */
  reconcileCalls: number;
  needsAttention: number;
  operatorResolved: { succeeded: number; failed: number; retry: number };
  crashes: number;
  duplicateJournalRows: number;
  seqGaps: number;
  brokenIdempotency: boolean;
  seconds: number;
  ok: boolean;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** Effectful calls per root run: charge, then (in the delegated run) reserve and notice. */
const EFFECTS_PER_RUN = 3;
const EFFECTFUL = new Set(['charge', 'reserve_stock', 'send_notice']);
const LEDGER_TOOL: Record<string, string> = {
  charge: 'charge',
  reserve_stock: 'reserve',
  send_notice: 'notice',
};

/** Run the chaos scenario and report; `ok` is the pass/fail verdict. */
export async function runPostgresChaos(opts: PostgresChaosOptions = {}): Promise<PostgresChaosReport> {
  const url = opts.url ?? process.env.SWITCHBOARD_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const workers = opts.workers ?? 3;
  const runs = opts.runs ?? 100;
  const terminations = opts.terminations ?? 10;
  const kills = opts.kills ?? 20;
  const crashEvery = opts.crashEvery ?? 10;
  const seed = opts.seed ?? Date.now() % 100_000;
  const random = mulberry32(seed);
  const log = opts.log ?? (() => {});
  const broken = process.env[BREAK_IDEMPOTENCY_ENV] === '1';
  const schema = `sb_chaos_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  // The system's connections share this prefix (the terminations target them); the ledger's do not.
  const app = `switchboard-chaos-${schema}`;
  const started = Date.now();
  await createLedger(url, schema);
  const ledger = new pg.Pool({ connectionString: url, max: 4, application_name: `ledger-${schema}` });
  ledger.on('error', () => {});
  const store = createPostgresStore({ url, schema, applicationName: app, onError: () => {} });
  await store.ready();
  const gateway = createSystem({
    agents: chaosAgents(ledger, schema, { breakIdempotency: broken }),
    model: chaosModel(),
    store,
    workers: false,
    pollMs: 200,
    onWarning: () => {},
  });
  await gateway.start();

  const deaths = { faultPoint: 0, killed: 0 };
  const children = new Set<ChildProcess>();
  const byDriver = new WeakSet<ChildProcess>();
  let stopping = false;
  let spawned = 0;
  const spawnWorker = (): void => {
    const child = fork(WORKER, [], {
      env: {
        ...process.env,
        SB_CHAOS_URL: url,
        SB_CHAOS_SCHEMA: schema,
        SB_CHAOS_APP: app,
        SB_CHAOS_CRASH_EVERY: String(crashEvery),
        SWITCHBOARD_FAULTS: `seed=${seed * 31 + spawned++},p=${opts.p ?? 0.01}`,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.add(child);
    child.on('exit', (_code, signal) => {
      children.delete(child);
      if (stopping) return;
      // A fault point or a tool's crash kills with SIGKILL from inside; the driver's kills are counted where they happen.
      if (signal === 'SIGKILL' && !byDriver.has(child)) deaths.faultPoint++;
      spawnWorker();
    });
  };
  for (let i = 0; i < workers; i++) spawnWorker();

  const ids: string[] = [];
  for (let i = 0; i < runs; i++) {
    const input = { actorId: `u${i % 7}`, sessionId: `s${i}`, input: `order ${i}`, agent: 'desk' };
    ids.push((await gateway.submit(input)).runId);
  }
  log(`submitted ${runs} runs to ${workers} workers (seed ${seed}${broken ? ', idempotency broken' : ''})`);

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
      if (deaths.killed < kills && random() < 0.5) {
        const list = [...children];
        const victim = list[Math.floor(random() * list.length)];
        if (victim) {
          byDriver.add(victim);
          victim.kill('SIGKILL');
          deaths.killed++;
        }
      }
    }
    return terms;
  })();
  const operator = operate(gateway, ledger, schema, () => done);

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
  await operator;
  stopping = true;
  for (const c of children) c.kill('SIGKILL');

  const report = await tally(gateway, ledger, schema);
  await gateway.stop();
  await store.close();
  await ledger.end();
  if (!opts.keepSchema) await dropPostgresSchemas(url, [schema, `${schema}_boss`, ledgerSchema(schema)]);
  const result: PostgresChaosReport = {
    store: 'postgres',
    workers,
    runs,
    completed,
    otherStatus,
    workerDeaths: deaths,
    terminations: termsDone,
    backendsTerminated,
    ...report,
    expectedEffects: runs * EFFECTS_PER_RUN,
    brokenIdempotency: broken,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ok: false,
  };
  // The verdict includes the effect total: a duplicate or a lost effect fails the run.
  result.ok =
    completed === runs &&
    result.duplicateEffects === 0 &&
    result.lostEffects === 0 &&
    result.unjournaledEffects === 0 &&
    result.effects === result.expectedEffects &&
    result.duplicateJournalRows === 0 &&
    result.seqGaps === 0 &&
    termsDone >= Math.min(terminations, 1);
  return result;
}

/** The operator: resolve every run that needs attention by checking the ledger for the call's key. */
async function operate(system: System, ledger: pg.Pool, schema: string, done: () => boolean): Promise<void> {
  while (!done()) {
    for (const row of await system.list({ status: 'needs_attention', limit: 1000 }).catch(() => [])) {
      const run = await system.get(row.runId).catch(() => null);
      if (!run?.attention) continue;
      const { callId } = run.attention;
      const applied = await effectFor(ledger, schema, `${run.runId}:${callId}`).catch(() => null);
      if (applied === null) continue;
      await system
        .resolve(
          run.runId,
          applied
            ? { callId, resolution: 'succeeded', result: { sent: true }, by: 'operator' }
            : { callId, resolution: 'retry', by: 'operator' },
        )
        // A terminated connection or a race with another resolution: look again next round.
        .catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Tally = Omit<
  PostgresChaosReport,
  | 'store'
  | 'workers'
  | 'runs'
  | 'completed'
  | 'otherStatus'
  | 'workerDeaths'
  | 'terminations'
  | 'backendsTerminated'
  | 'expectedEffects'
  | 'brokenIdempotency'
  | 'seconds'
  | 'ok'
>;

/** Every run's journal (roots and delegated children) against the ledger, call by call. */
async function tally(system: System, ledger: pg.Pool, schema: string): Promise<Tally> {
  const t = {
    duplicateJournalRows: 0,
    seqGaps: 0,
    inDoubtReruns: 0,
    reconciledApplied: 0,
    reconciledNotApplied: 0,
    needsAttention: 0,
    operatorResolved: { succeeded: 0, failed: 0, retry: 0 },
  };
  const succeeded = new Map<string, string>();
  for (const row of await system.list({ limit: 100_000 })) {
    const c = journalCounts(await system.store.journal.read(row.runId));
    t.duplicateJournalRows += c.duplicateRows;
    t.seqGaps += c.seqGaps;
    t.inDoubtReruns += c.inDoubtReruns;
    t.reconciledApplied += c.reconciledApplied;
    t.reconciledNotApplied += c.reconciledNotApplied;
    t.needsAttention += c.needsAttention;
    for (const k of ['succeeded', 'failed', 'retry'] as const) t.operatorResolved[k] += c.resolved[k];
    for (const s of c.succeededCalls)
      if (EFFECTFUL.has(s.tool)) succeeded.set(`${row.runId}:${s.callId}`, LEDGER_TOOL[s.tool] ?? s.tool);
  }
  const calls = await ledgerCalls(ledger, schema);
  const inLedger = new Map(calls.map((c) => [`${c.runId}:${c.callId}`, c]));
  const counts = await ledgerCounts(ledger, schema);
  return {
    executions: calls.reduce((n, c) => n + c.executions, 0),
    effects: calls.reduce((n, c) => n + c.effects, 0),
    duplicateEffects: calls.reduce((n, c) => n + Math.max(c.effects - 1, 0), 0),
    lostEffects: [...succeeded.keys()].filter((k) => (inLedger.get(k)?.effects ?? 0) === 0).length,
    unjournaledEffects: calls.filter((c) => c.effects > 0 && !succeeded.has(`${c.runId}:${c.callId}`)).length,
    ...t,
    reconciled: t.reconciledApplied + t.reconciledNotApplied,
    reconcileCalls: counts.reconciles,
    crashes: counts.crashes,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '3' },
      runs: { type: 'string', default: '100' },
      terminations: { type: 'string', default: '10' },
      kills: { type: 'string', default: '20' },
      'crash-every': { type: 'string', default: '10' },
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
    kills: Number(values.kills),
    crashEvery: Number(values['crash-every']),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values.p ? { p: Number(values.p) } : {}),
    ...(values.json ? {} : { log: (l: string) => console.error(`[chaos] ${l}`) }),
  });
  console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
  process.exit(report.ok ? 0 : 1);
}

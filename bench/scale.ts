/**
 * Scale-out benchmark on PostgreSQL: runs/s with 1, 2 and 4 worker processes for a workload whose
 * tool takes 20 ms (I/O-bound), side by side. Each configuration gets a fresh schema; a gateway
 * (this process, no workers) submits the runs at once and the clock stops when the last completes.
 *
 *   node bench/scale.ts [--workers 1,2,4] [--runs 400] [--concurrency 4] [--tool-ms 20] [--json]
 *
 * Workers are this same file started with `--role worker`. Results land in BENCHMARKS.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defineAgent } from '../src/core/agent.ts';
import { defineTool } from '../src/core/tool.ts';
import { policyModel, toolResults } from '../src/models/scripted.ts';
import { dropPostgresSchemas } from '../src/store/postgres/admin.ts';
import { createPostgresStore } from '../src/store/postgres/store.ts';
import { createSystem } from '../src/system.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'driver' },
    workers: { type: 'string', default: '1,2,4' },
    runs: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '4' },
    'tool-ms': { type: 'string', default: '20' },
    schema: { type: 'string' },
    json: { type: 'boolean', default: false },
    /** `off` measures without pg-boss deliveries (workers then find work by polling and local kicks). */
    wakeups: { type: 'string', default: 'pgboss' },
  },
});
const url = process.env.SWITCHBOARD_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const toolMs = Number(values['tool-ms']);
const concurrency = Number(values.concurrency);

/** One agent, one I/O-bound tool (a 20 ms call to some service), a model that calls it once. */
function workload() {
  const lookup = defineTool({
    name: 'lookup',
    description: 'Look up an order in the order service',
    input: z.object({ id: z.number() }),
    risk: 'read',
    idempotent: true,
    run: async ({ id }) => {
      await new Promise((r) => setTimeout(r, toolMs));
      return { id, status: 'shipped' };
    },
  });
  const agent = defineAgent({
    name: 'orders',
    responsibility: 'Answer order questions',
    instructions: 'Look up, then answer.',
    tools: [lookup],
    concurrency,
  });
  const model = policyModel(({ prompt }) =>
    toolResults(prompt).length === 0
      ? { toolCalls: [{ toolName: 'lookup', input: { id: 1 } }] }
      : { text: 'Shipped.' },
  );
  return { agents: [agent], model };
}

const common = { pollMs: 200, onWarning: () => {}, onError: () => {} };

if (values.role === 'worker') {
  const store = createPostgresStore({
    url,
    schema: values.schema ?? '',
    applicationName: 'switchboard-bench',
  });
  const system = createSystem({ ...workload(), ...common, store });
  await store.ready();
  // Connected and migrated; the driver says when to start, so start-up is not timed.
  process.send?.('ready');
  process.once('message', () => {
    void system.start();
  });
  process.on('SIGTERM', () => {
    void system
      .stop()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
} else {
  const results: { workers: number; runs: number; seconds: number; runsPerSecond: number }[] = [];
  for (const n of values.workers.split(',').map(Number)) results.push(await measure(n, Number(values.runs)));
  const base = results[0]?.runsPerSecond ?? 1;
  const table = results.map((r) => ({ ...r, speedup: Math.round((r.runsPerSecond / base) * 100) / 100 }));
  const meta = { toolMs, concurrencyPerWorker: concurrency, cpus: cpus().length, node: process.version };
  if (values.json) console.log(JSON.stringify({ ...meta, results: table }));
  else {
    console.log(
      `tool ${toolMs} ms, concurrency ${concurrency} per worker, ${meta.cpus} CPUs, node ${meta.node}`,
    );
    console.log('workers  runs  seconds  runs/s  speedup');
    for (const r of table)
      console.log(
        `${String(r.workers).padStart(7)}  ${String(r.runs).padStart(4)}  ${r.seconds.toFixed(2).padStart(7)}  ${r.runsPerSecond.toFixed(1).padStart(6)}  ${r.speedup.toFixed(2).padStart(6)}x`,
      );
  }
}

async function measure(workers: number, runs: number) {
  const schema = `sb_bench_${Date.now().toString(36)}_${workers}`;
  const store = createPostgresStore({
    url,
    schema,
    applicationName: 'switchboard-bench',
    wakeups: values.wakeups !== 'off',
  });
  await store.ready();
  const gateway = createSystem({ ...workload(), ...common, store, workers: false });
  await gateway.start();
  const children: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: workers }, () => {
      const child = fork(
        fileURLToPath(import.meta.url),
        ['--role', 'worker', '--schema', schema, ...passThrough()],
        {
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        },
      );
      children.push(child);
      return new Promise<void>((resolve) => child.once('message', () => resolve()));
    }),
  );
  // Every run is submitted before the workers start: the clock measures the workers, not the gateway.
  const ids = [];
  for (let i = 0; i < runs; i += 50) {
    const batch = Array.from({ length: Math.min(50, runs - i) }, (_, j) =>
      gateway.submit({
        actorId: 'bench',
        sessionId: `s${i + j}`,
        input: 'where is order 1',
        agent: 'orders',
      }),
    );
    ids.push(...(await Promise.all(batch)));
  }
  const started = performance.now();
  for (const c of children) c.send('go');
  // Count completions from the projection rather than following each run: the gateway stays light.
  for (;;) {
    const { rows } = await store.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".runs WHERE status = 'completed'`,
    );
    if ((rows[0]?.n ?? 0) >= ids.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
  await gateway.stop();
  await store.close();
  await dropPostgresSchemas(url, [schema, `${schema}_boss`]);
  return {
    workers,
    runs,
    seconds: Math.round(seconds * 100) / 100,
    runsPerSecond: Math.round((runs / seconds) * 10) / 10,
  };
}

function passThrough(): string[] {
  return ['--concurrency', String(concurrency), '--tool-ms', String(toolMs), '--wakeups', values.wakeups];
}

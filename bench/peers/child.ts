// One framework, one process: run.ts forks this file once per framework per round, so that peak
// RSS, heap and cold start belong to that framework alone. Results go back over the IPC channel.
//
//   node --expose-gc bench/peers/child.ts <framework> verify|bench|profile [--quick] [--workload best|realistic]
//
// `best` (workload.ts, adapters in frameworks/) or `realistic` (realistic.ts, adapters in
// realistic/): the realistic one also checks that its write took effect exactly once per run.
import { existsSync } from 'node:fs';
import { GCProfiler } from 'node:v8';
import { setModelLatency, stats, type CreateHarness, type Harness } from './workload.ts';

const [framework = '', mode = 'bench'] = process.argv.slice(2);
const quick = process.argv.includes('--quick');
const workloadAt = process.argv.indexOf('--workload');
const workload = workloadAt >= 0 ? process.argv[workloadAt + 1] : 'best';
if (workload !== 'best' && workload !== 'realistic') throw new Error(`unknown workload ${workload}`);
const spec = (await import(workload === 'best' ? './workload.ts' : './realistic.ts')) as {
  INPUT: string;
  EXPECTED_ANSWER: string;
  effects?: { writes: number; progress: number };
};
const { INPUT, EXPECTED_ANSWER } = spec;
const LATENCY_MS = 50;

/** Reports to the parent (or prints, when run by hand). */
function send(message: Record<string, unknown>): void {
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message));
}

const lifetime = new GCProfiler();
lifetime.start();

const adapter = new URL(
  `./${workload === 'best' ? 'frameworks' : 'realistic'}/${framework}.ts`,
  import.meta.url,
);
if (!existsSync(adapter)) throw new Error(`no ${workload} adapter for ${framework}`);
const { create, limitations = [] } = (await import(adapter.href)) as {
  create: CreateHarness;
  limitations?: string[];
};

function check(answer: string): void {
  if (answer !== EXPECTED_ANSWER) throw new Error(`${framework} answered ${JSON.stringify(answer)}`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Sequential runs: per-run overhead per step (wall minus policy/tool time minus model latency). */
async function sequential(h: Harness, seconds: number, minRuns: number, maxRuns: number) {
  const perStep: number[] = [];
  const steps: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  while (perStep.length < maxRuns && (perStep.length < minRuns || performance.now() < deadline)) {
    const z0 = stats.sleptMs;
    const s0 = stats.modelCalls + stats.toolCalls + stats.handoffs;
    const p0 = stats.payloadMs;
    const r0 = performance.now();
    check(await h.run(INPUT));
    const wall = performance.now() - r0;
    const n = stats.modelCalls + stats.toolCalls + stats.handoffs - s0;
    // At concurrency 1 the timers that simulate model latency overlap nothing else, so the time
    // they actually took (a little over 50 ms each) is model time, not framework overhead.
    perStep.push((wall - (stats.payloadMs - p0) - (stats.sleptMs - z0)) / n);
    steps.push(n);
  }
  const cpu = process.cpuUsage(cpu0);
  const totalSteps = steps.reduce((a, b) => a + b, 0);
  return {
    overheadMsPerStep: median(perStep),
    // CPU time (all threads) per step: unlike wall time, blind to fsync waits and to other
    // processes on a shared machine, so it separates engine cost from disk and noise.
    cpuMsPerStep: (cpu.user + cpu.system) / 1000 / totalSteps,
    runsPerSec: perStep.length / ((performance.now() - t0) / 1000),
    stepsPerRun: median(steps),
    runs: perStep.length,
  };
}

/** `concurrency` runs in flight at all times until the deadline (or `maxRuns` started). */
async function concurrent(h: Harness, concurrency: number, seconds: number, maxRuns: number) {
  let started = 0;
  let done = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < maxRuns && (started < concurrency || performance.now() < deadline)) {
        started++;
        check(await h.run(INPUT));
        done++;
      }
    }),
  );
  return { runsPerSec: done / ((performance.now() - t0) / 1000), runs: done };
}

/** Bytes allocated on the V8 heap per run, from heap use before/after every GC in the window. */
async function allocations(h: Harness, runs: number): Promise<number> {
  globalThis.gc?.();
  const profiler = new GCProfiler();
  const start = process.memoryUsage().heapUsed;
  profiler.start();
  for (let i = 0; i < runs; i++) check(await h.run(INPUT));
  const end = process.memoryUsage().heapUsed;
  const gcs = profiler.stop()?.statistics ?? [];
  let allocated = 0;
  let last = start;
  for (const g of gcs) {
    allocated += g.beforeGC.heapStatistics.usedHeapSize - last;
    last = g.afterGC.heapStatistics.usedHeapSize;
  }
  allocated += end - last;
  return allocated / runs;
}

/** The adapter's harness, counting runs (for the write-effect check). */
let runs = 0;
const inner = await create();
const h: Harness = {
  run: (input) => (runs++, inner.run(input)),
  close: () => inner.close(),
};
/** The realistic workload's write must take effect exactly once per run: never lost, never twice. */
function checkWrites(): void {
  if (spec.effects && spec.effects.writes !== runs)
    throw new Error(`${framework}: ${spec.effects.writes} write effects in ${runs} runs`);
}

if (mode === 'verify') {
  stats.tracing = true;
  const answer = await h.run(INPUT);
  send({
    type: 'verify',
    framework,
    answer,
    toolCalls: stats.trace,
    modelCalls: stats.modelCalls,
    handoffs: stats.handoffs,
    writes: spec.effects?.writes ?? null,
    progress: spec.effects?.progress ?? null,
    limitations,
  });
  await h.close();
  process.exit(0);
}

if (mode === 'profile') {
  // What run.ts --profile records: sequential runs (the overhead/step metric), or --concurrency N.
  const concurrency = Number(process.argv[process.argv.indexOf('--concurrency') + 1] ?? 1) || 1;
  await sequential(h, 1, 20, 2000);
  const result =
    concurrency > 1
      ? await concurrent(h, concurrency, quick ? 2 : 6, 1e9)
      : await sequential(h, quick ? 2 : 6, 50, 1e6);
  checkWrites();
  send({ type: 'profile', concurrency, ...result });
  await h.close();
  process.exit(0);
}

check(await h.run(INPUT));
// Cold start ends here: the parent timed fork → this message.
send({ type: 'first', rssAfterFirstRun: process.memoryUsage().rss });

const scale = quick ? 0.25 : 1;
await sequential(h, 1.5 * scale, 20, 2000); // warm-up: JIT, caches, pools
const c1 = await sequential(h, 2 * scale, 30, 5000);
const c32 = await concurrent(h, 32, 3 * scale, 1e9);
setModelLatency(LATENCY_MS);
const c1Latency = await sequential(h, 0, quick ? 3 : 8, quick ? 3 : 8);
const c32Latency = await concurrent(h, 32, 0, quick ? 64 : 128);
setModelLatency(0);
const allocBytesPerRun = await allocations(h, quick ? 20 : 100);

globalThis.gc?.();
const heapAfterGc = process.memoryUsage().heapUsed;
const gcs = lifetime.stop()?.statistics ?? [];
checkWrites();
const peakHeap = Math.max(
  process.memoryUsage().heapUsed,
  ...gcs.map((g) => g.beforeGC.heapStatistics.usedHeapSize),
);
send({
  type: 'result',
  framework,
  overheadMsPerStep: c1.overheadMsPerStep,
  cpuMsPerStep: c1.cpuMsPerStep,
  stepsPerRun: c1.stepsPerRun,
  runsPerSecC1: c1.runsPerSec,
  runsPerSecC32: c32.runsPerSec,
  overheadMsPerStepLatency: c1Latency.overheadMsPerStep,
  runsPerSecC1Latency: c1Latency.runsPerSec,
  runsPerSecC32Latency: c32Latency.runsPerSec,
  allocBytesPerRun,
  peakRss: process.resourceUsage().maxRSS * 1024,
  peakHeap,
  heapAfterGc,
  runsMeasured: c1.runs + c32.runs + c1Latency.runs + c32Latency.runs,
});
await h.close();
process.exit(0);

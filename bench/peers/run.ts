// Switchboard against its peers, side by side in one run.
//
//   node bench/peers/run.ts [--json [--markdown <file>]] [--rounds 5] [--quick] [--only a,b] [--workload best|realistic|both]
//                           [--profile <framework> [--concurrency N]]
//
// Frameworks: frameworks.ts (PostgreSQL ones on BENCH_DATABASE_URL, default the local `test`
// database). Workloads: `best` (workload.ts, adapters in frameworks/) and
// `realistic` (realistic.ts, adapters in realistic/; a framework without one is reported
// unavailable for it); both by default.
//
// 1. Verify: each framework runs each workload once in its own process; all must return the same
//    answer with the same tool calls (and, realistic, exactly one write effect), or nothing is timed.
// 2. Rounds: every round forks one child per framework and workload, in a rotated order (so that
//    none always runs first or last on a noisy machine); medians over rounds are reported.
// Without --json it prints Markdown tables (the ones in BENCHMARKS.md); with --json, one JSON
// object per framework per line on stdout, progress on stderr.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAMEWORKS } from './frameworks.ts';
import * as realistic from './realistic.ts';
import { markdownReport, METRICS, printMarkdown, type Metric, type Row, type Workload } from './report.ts';
import * as best from './workload.ts';

const EXPECTED: Record<Workload, { answer: string; toolCalls: string[] }> = {
  best: { answer: best.EXPECTED_ANSWER, toolCalls: best.EXPECTED_TOOL_CALLS },
  realistic: { answer: realistic.EXPECTED_ANSWER, toolCalls: realistic.EXPECTED_TOOL_CALLS },
};

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const json = flag('--json');
const quick = flag('--quick');
const rounds = Number(option('--rounds') ?? (quick ? 1 : 5));
const profile = option('--profile');
const concurrencyOption = option('--concurrency') ?? '1';
const workloadOption = option('--workload') ?? 'both';
if (!['best', 'realistic', 'both'].includes(workloadOption))
  throw new Error(`--workload must be best, realistic or both (got ${workloadOption})`);
const workloads: Workload[] =
  workloadOption === 'both' ? ['best', 'realistic'] : [workloadOption as Workload];

const only = option('--only')?.split(',');
const selected = FRAMEWORKS.filter((f) => !only || only.includes(f.name));

const log = (line: string) => process.stderr.write(`${line}\n`);

// The peers live in bench/peers' own install. Install it (exactly the lock file) when it is missing
// or older than the lock file; npm's output goes to stderr so that --json output stays clean.
const installed = join(here, 'node_modules', '.package-lock.json');
if (
  !existsSync(installed) ||
  statSync(installed).mtimeMs < statSync(join(here, 'package-lock.json')).mtimeMs
) {
  log('installing bench/peers dependencies (npm ci)…');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: here,
    stdio: ['ignore', 2, 2],
    shell: process.platform === 'win32',
  });
  if (npm.status !== 0) throw new Error(`npm ci in ${here} failed (${npm.status ?? npm.signal})`);
}

// Switchboard is measured the way a user runs it: the built package (dist/, plain JavaScript), not
// the checkout's TypeScript sources. Rebuild when any source file is newer than the build.
const switchboardRoot = process.env.SWITCHBOARD_ROOT ?? join(here, '..', '..');
if (selected.some((f) => f.pkg === 'switchboard') && buildIsStale(switchboardRoot)) {
  log(`building ${switchboardRoot} (npm run build)…`);
  const build = spawnSync('npm', ['run', 'build'], { cwd: switchboardRoot, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) throw new Error(`npm run build failed (${build.status ?? build.signal})`);
}

function buildIsStale(root: string): boolean {
  const built = join(root, 'dist', 'src', 'index.js');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > builtAt,
    );
  return newer(join(root, 'src'));
}

function version(pkg: string): string {
  if (pkg === 'switchboard') return switchboardVersion();
  try {
    return (
      JSON.parse(readFileSync(join(here, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'not installed';
  }
}

/** package.json version plus the commit measured (`+dirty` when src/ has uncommitted changes). */
function switchboardVersion(): string {
  const root = process.env.SWITCHBOARD_ROOT ?? join(here, '..', '..');
  const { version: v } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const git = (...args: string[]) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  const commit = process.env.SWITCHBOARD_COMMIT ?? git('rev-parse', '--short', 'HEAD').stdout?.trim();
  const dirty =
    !process.env.SWITCHBOARD_COMMIT && git('status', '--porcelain', '--', 'src').stdout?.trim() !== '';
  return commit ? `${v} (${commit}${dirty ? '+dirty' : ''})` : v;
}

type Message = Record<string, unknown> & { type: string };

/** Forks one child; resolves with its messages and the fork → first-run time. */
function runChild(framework: string, mode: 'verify' | 'bench' | 'profile', workload: Workload) {
  return new Promise<{ messages: Message[]; coldStartMs?: number }>((resolve, reject) => {
    const execArgv = ['--expose-gc'];
    if (mode === 'profile')
      execArgv.push(
        '--cpu-prof',
        `--cpu-prof-dir=${join(here, 'profiles')}`,
        `--cpu-prof-name=${framework}${workload === 'best' ? '' : `-${workload}`}.cpuprofile`,
      );
    const messages: Message[] = [];
    let coldStartMs: number | undefined;
    let stderr = '';
    const t0 = performance.now();
    const extra = [
      '--workload',
      workload,
      ...(quick ? ['--quick'] : []),
      ...(mode === 'profile' ? ['--concurrency', concurrencyOption] : []),
    ];
    const child = fork(join(here, 'child.ts'), [framework, mode, ...extra], {
      execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('message', (m: Message) => {
      if (m.type === 'first') coldStartMs = performance.now() - t0;
      messages.push(m);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve({ messages, ...(coldStartMs === undefined ? {} : { coldStartMs }) });
      else {
        // The error's own line first (Node prints the throwing source line before it).
        const lines = stderr.trim().split('\n');
        const error = lines.findIndex((l) => /^\w*Error\b/.test(l));
        const shown = error > 0 ? [...lines.slice(error), ...lines.slice(0, error)] : lines;
        reject(
          new Error(
            `${framework} (${workload}, ${mode}) exited with ${code}: ${shown.slice(0, 12).join('\n')}`,
          ),
        );
      }
    });
  });
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One measured pair: a framework on a workload; keyed `framework/workload`. */
type Pair = { f: (typeof FRAMEWORKS)[number]; w: Workload; key: string };
const pairs: Pair[] = workloads.flatMap((w) => selected.map((f) => ({ f, w, key: `${f.name}/${w}` })));

// ---- 1. Verify ----
const unavailable = new Map<string, string>();
const shapes = new Map<string, { modelCalls: number; handoffs: number; limitations: string[] }>();
for (const { f, w, key } of pairs) {
  if (profile && f.name !== profile) continue;
  try {
    const { messages } = await runChild(f.name, 'verify', w);
    const v = messages.find((m) => m.type === 'verify') as
      | {
          answer: string;
          toolCalls: string[];
          modelCalls: number;
          handoffs: number;
          writes: number | null;
          limitations: string[];
        }
      | undefined;
    if (!v) throw new Error('no verification result');
    const expected = EXPECTED[w];
    if (
      v.answer !== expected.answer ||
      JSON.stringify(v.toolCalls) !== JSON.stringify(expected.toolCalls) ||
      (w === 'realistic' && v.writes !== 1)
    ) {
      log(
        `FAIL ${key}: answer ${JSON.stringify(v.answer)}, tool calls ${JSON.stringify(v.toolCalls)}` +
          (w === 'realistic' ? `, write effects ${v.writes} (want 1)` : ''),
      );
      process.exit(1);
    }
    shapes.set(key, { modelCalls: v.modelCalls, handoffs: v.handoffs, limitations: v.limitations ?? [] });
    log(
      `verified ${key}: same answer, tool calls ${v.toolCalls.map((c) => c.split(' ')[0]).join(' → ')}` +
        (w === 'realistic' ? ', 1 write effect' : ''),
    );
  } catch (error) {
    unavailable.set(key, (error as Error).message);
    log(`SKIP ${key}: ${(error as Error).message.split('\n')[0]}`);
  }
}
const runnable = pairs.filter((p) => !unavailable.has(p.key) && (!profile || p.f.name === profile));

if (profile) {
  // Concurrency 1 by default (the case behind overhead/step), or --concurrency N. The profile is
  // written to profiles/<framework>[-realistic].cpuprofile; summarize it with profile-summary.ts.
  for (const { w } of runnable) {
    const { messages } = await runChild(profile, 'profile', w);
    const p = messages.find((m) => m.type === 'profile');
    log(
      `${profile} (${w}) at concurrency ${concurrencyOption}: ${Number(p?.runsPerSec).toFixed(0)} runs/s` +
        (p?.overheadMsPerStep === undefined ? '' : `, ${Number(p.overheadMsPerStep).toFixed(3)} ms/step`) +
        `; CPU profile in ${join(here, 'profiles')}`,
    );
  }
  process.exit(0);
}

// ---- 2. Rounds, interleaved ----
const samples = new Map<string, Record<Metric, number[]>>();
for (const p of runnable)
  samples.set(p.key, Object.fromEntries(METRICS.map((m) => [m, [] as number[]])) as Record<Metric, number[]>);

for (let round = 0; round < rounds; round++) {
  const order = runnable.map((_, i) => runnable[(i + round) % runnable.length]!);
  for (const { f, w, key } of order) {
    const { messages, coldStartMs } = await runChild(f.name, 'bench', w);
    const result = messages.find((m) => m.type === 'result');
    const first = messages.find((m) => m.type === 'first');
    if (!result || !first || coldStartMs === undefined) throw new Error(`${key}: incomplete results`);
    const s = samples.get(key)!;
    for (const m of METRICS) {
      const value = m === 'coldStartMs' ? coldStartMs : m === 'rssAfterFirstRun' ? first[m] : result[m];
      s[m].push(Number(value));
    }
    log(
      `round ${round + 1}/${rounds} ${key}: ${Number(result.overheadMsPerStep).toFixed(3)} ms/step, ` +
        `${Number(result.runsPerSecC32).toFixed(0)} runs/s @32, ${(Number(result.peakRss) / 2 ** 20).toFixed(0)} MB peak RSS, ` +
        `cold ${coldStartMs.toFixed(0)} ms`,
    );
  }
}

// ---- 3. Report ----
const rows: Row[] = runnable.map(({ f, w, key }) => {
  const s = samples.get(key)!;
  const medians = Object.fromEntries(METRICS.map((m) => [m, median(s[m])])) as Record<Metric, number>;
  return {
    framework: f.name,
    label: f.label,
    version: version(f.pkg),
    workload: w,
    durable: f.durable,
    store: f.store,
    limitations: shapes.get(key)?.limitations ?? [],
    ...medians,
    modelCallsPerRun: shapes.get(key)?.modelCalls ?? NaN,
    rounds,
  };
});

const MB = 2 ** 20;
if (json) {
  for (const r of rows) {
    process.stdout.write(
      `${JSON.stringify({
        framework: r.framework,
        workload: r.workload,
        durable: r.durable,
        store: r.store,
        version: r.version,
        rounds: r.rounds,
        stepsPerRun: r.stepsPerRun,
        modelCallsPerRun: r.modelCallsPerRun,
        overheadMsPerStep: round3(r.overheadMsPerStep),
        cpuMsPerStep: round3(r.cpuMsPerStep),
        runsPerSecC1: round1(r.runsPerSecC1),
        runsPerSecC32: round1(r.runsPerSecC32),
        overheadMsPerStepAt50msModel: round3(r.overheadMsPerStepLatency),
        runsPerSecC1At50msModel: round1(r.runsPerSecC1Latency),
        runsPerSecC32At50msModel: round1(r.runsPerSecC32Latency),
        peakRssMB: round1(r.peakRss / MB),
        peakHeapMB: round1(r.peakHeap / MB),
        rssAfterFirstRunMB: round1(r.rssAfterFirstRun / MB),
        liveHeapAfterGcMB: round1(r.heapAfterGc / MB),
        coldStartMs: round1(r.coldStartMs),
        allocKBPerRun: round1(r.allocBytesPerRun / 1024),
        ...(r.workload === 'realistic' ? { limitations: r.limitations } : {}),
      })}\n`,
    );
  }
  for (const [key, reason] of unavailable) {
    const [framework, workload] = key.split('/');
    process.stdout.write(`${JSON.stringify({ framework, workload, unavailable: reason.split('\n')[0] })}\n`);
  }
  // --markdown <file>: the same measurement's Markdown report too, so one run gives both.
  const markdown = option('--markdown');
  if (markdown) writeFileSync(markdown, markdownReport(rows, unavailable, workloads, rounds));
} else {
  printMarkdown(rows, unavailable, workloads, rounds);
}

function round1(x: number) {
  return Math.round(x * 10) / 10;
}
function round3(x: number) {
  return Math.round(x * 1000) / 1000;
}

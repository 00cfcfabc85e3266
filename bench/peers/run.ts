// Switchboard against its peers, side by side in one run.
//
//   node bench/peers/run.ts [--json] [--rounds 5] [--quick] [--only a,b] [--profile <framework> [--concurrency N]]
//
// Frameworks: switchboard-sqlite, switchboard-memory, switchboard-sqlite-normal, langgraph,
// openai-agents, mastra, strands.
//
// 1. Verify: each framework runs the workload once in its own process; all must return the same
//    answer with the same tool calls, or nothing is timed.
// 2. Rounds: every round forks one child per framework, in a rotated order (so that no framework
//    always runs first or last on a noisy machine); medians over rounds are reported.
// Without --json it prints Markdown tables (the ones in BENCHMARKS.md); with --json, one JSON
// object per framework per line on stdout, progress on stderr.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAMEWORKS } from './frameworks.ts';
import { EXPECTED_ANSWER, EXPECTED_TOOL_CALLS } from './workload.ts';

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
function runChild(framework: string, mode: 'verify' | 'bench' | 'profile') {
  return new Promise<{ messages: Message[]; coldStartMs?: number }>((resolve, reject) => {
    const execArgv = ['--expose-gc'];
    if (mode === 'profile')
      execArgv.push(
        '--cpu-prof',
        `--cpu-prof-dir=${join(here, 'profiles')}`,
        `--cpu-prof-name=${framework}.cpuprofile`,
      );
    const messages: Message[] = [];
    let coldStartMs: number | undefined;
    let stderr = '';
    const t0 = performance.now();
    const extra = [
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
      else
        reject(
          new Error(
            `${framework} (${mode}) exited with ${code}: ${stderr.trim().split('\n').slice(0, 12).join('\n')}`,
          ),
        );
    });
  });
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---- 1. Verify ----
const unavailable = new Map<string, string>();
const shapes = new Map<string, { modelCalls: number; handoffs: number }>();
for (const f of selected) {
  try {
    const { messages } = await runChild(f.name, 'verify');
    const v = messages.find((m) => m.type === 'verify') as
      { answer: string; toolCalls: string[]; modelCalls: number; handoffs: number } | undefined;
    if (!v) throw new Error('no verification result');
    if (v.answer !== EXPECTED_ANSWER || JSON.stringify(v.toolCalls) !== JSON.stringify(EXPECTED_TOOL_CALLS)) {
      log(`FAIL ${f.name}: answer ${JSON.stringify(v.answer)}, tool calls ${JSON.stringify(v.toolCalls)}`);
      process.exit(1);
    }
    shapes.set(f.name, { modelCalls: v.modelCalls, handoffs: v.handoffs });
    log(`verified ${f.name}: same answer, tool calls ${v.toolCalls.map((c) => c.split(' ')[0]).join(' → ')}`);
  } catch (error) {
    unavailable.set(f.name, (error as Error).message);
    log(`SKIP ${f.name}: ${(error as Error).message}`);
  }
}
const runnable = selected.filter((f) => !unavailable.has(f.name));

if (profile) {
  // Concurrency 1 by default (the case behind overhead/step), or --concurrency N. The profile is
  // written to profiles/<framework>.cpuprofile; summarize it with profile-summary.ts.
  const { messages } = await runChild(profile, 'profile');
  const p = messages.find((m) => m.type === 'profile');
  log(
    `${profile} at concurrency ${concurrencyOption}: ${Number(p?.runsPerSec).toFixed(0)} runs/s` +
      (p?.overheadMsPerStep === undefined ? '' : `, ${Number(p.overheadMsPerStep).toFixed(3)} ms/step`) +
      `; CPU profile in ${join(here, 'profiles', `${profile}.cpuprofile`)}`,
  );
  process.exit(0);
}

// ---- 2. Rounds, interleaved ----
const METRICS = [
  'overheadMsPerStep',
  'cpuMsPerStep',
  'runsPerSecC1',
  'runsPerSecC32',
  'overheadMsPerStepLatency',
  'runsPerSecC1Latency',
  'runsPerSecC32Latency',
  'peakRss',
  'peakHeap',
  'coldStartMs',
  'rssAfterFirstRun',
  'heapAfterGc',
  'allocBytesPerRun',
  'stepsPerRun',
] as const;
type Metric = (typeof METRICS)[number];
const samples = new Map<string, Record<Metric, number[]>>();
for (const f of runnable)
  samples.set(
    f.name,
    Object.fromEntries(METRICS.map((m) => [m, [] as number[]])) as Record<Metric, number[]>,
  );

for (let round = 0; round < rounds; round++) {
  const order = runnable.map((_, i) => runnable[(i + round) % runnable.length]!);
  for (const f of order) {
    const { messages, coldStartMs } = await runChild(f.name, 'bench');
    const result = messages.find((m) => m.type === 'result');
    const first = messages.find((m) => m.type === 'first');
    if (!result || !first || coldStartMs === undefined) throw new Error(`${f.name}: incomplete results`);
    const s = samples.get(f.name)!;
    for (const m of METRICS) {
      const value = m === 'coldStartMs' ? coldStartMs : m === 'rssAfterFirstRun' ? first[m] : result[m];
      s[m].push(Number(value));
    }
    log(
      `round ${round + 1}/${rounds} ${f.name}: ${Number(result.overheadMsPerStep).toFixed(3)} ms/step, ` +
        `${Number(result.runsPerSecC32).toFixed(0)} runs/s @32, ${(Number(result.peakRss) / 2 ** 20).toFixed(0)} MB peak RSS, ` +
        `cold ${coldStartMs.toFixed(0)} ms`,
    );
  }
}

// ---- 3. Report ----
type Row = { framework: string; label: string; version: string; durable: boolean } & Record<
  Metric,
  number
> & {
    modelCallsPerRun: number;
    rounds: number;
  };
const rows: Row[] = runnable.map((f) => {
  const s = samples.get(f.name)!;
  const medians = Object.fromEntries(METRICS.map((m) => [m, median(s[m])])) as Record<Metric, number>;
  return {
    framework: f.name,
    label: f.label,
    version: version(f.pkg),
    durable: f.durable,
    ...medians,
    modelCallsPerRun: shapes.get(f.name)?.modelCalls ?? NaN,
    rounds,
  };
});

const MB = 2 ** 20;
if (json) {
  for (const r of rows) {
    process.stdout.write(
      `${JSON.stringify({
        framework: r.framework,
        workload: 'best',
        durable: r.durable,
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
      })}\n`,
    );
  }
  for (const [name, reason] of unavailable)
    process.stdout.write(`${JSON.stringify({ framework: name, unavailable: reason.split('\n')[0] })}\n`);
} else {
  printMarkdown();
}

function round1(x: number) {
  return Math.round(x * 10) / 10;
}
function round3(x: number) {
  return Math.round(x * 1000) / 1000;
}

function printMarkdown() {
  const cpu = os.cpus();
  const out: string[] = [];
  const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
  out.push(
    `Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ` +
      `${os.type()} ${os.release()}, Node ${process.version}. Medians of ${rounds} interleaved rounds, one process per framework per round.`,
    '',
    'Speed (fake model with zero latency unless marked @50 ms):',
    '',
    '| Framework | Version | Model calls/run | Steps/run | Overhead/step (ms) | CPU/step (ms) | Runs/s c=1 | Runs/s c=32 | Overhead/step @50 ms (ms) | Runs/s c=1 @50 ms | Runs/s c=32 @50 ms |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const r of rows)
    out.push(
      `| ${r.label} | ${r.version} | ${r.modelCallsPerRun} | ${r.stepsPerRun} | ${fixed(r.overheadMsPerStep, 3)} | ` +
        `${fixed(r.cpuMsPerStep, 3)} | ` +
        `${fixed(r.runsPerSecC1, 0)} | ${fixed(r.runsPerSecC32, 0)} | ${fixed(r.overheadMsPerStepLatency, 3)} | ` +
        `${fixed(r.runsPerSecC1Latency, 2)} | ${fixed(r.runsPerSecC32Latency, 0)} |`,
    );
  out.push(
    '',
    'Memory and start-up:',
    '',
    '| Framework | Peak RSS (MB) | Peak heap (MB) | RSS after first run (MB) | Live heap after GC (MB) | Cold start to first run (ms) | Allocated/run (KB) |',
    '|---|--:|--:|--:|--:|--:|--:|',
  );
  for (const r of rows)
    out.push(
      `| ${r.label} | ${fixed(r.peakRss / MB, 0)} | ${fixed(r.peakHeap / MB, 0)} | ${fixed(r.rssAfterFirstRun / MB, 0)} | ` +
        `${fixed(r.heapAfterGc / MB, 1)} | ${fixed(r.coldStartMs, 0)} | ${fixed(r.allocBytesPerRun / 1024, 0)} |`,
    );
  const base = rows.find((r) => r.framework === 'switchboard-sqlite');
  if (base) {
    out.push(
      '',
      'Ratios Switchboard (SQLite, durable) / peer. Below 1 favours Switchboard for overhead, memory, cold start and ' +
        'allocations; above 1 favours it for runs/s:',
      '',
      '| Peer | Overhead/step | CPU/step | Runs/s c=1 | Runs/s c=32 | Overhead/step @50 ms | Runs/s c=32 @50 ms | Peak RSS | Peak heap | RSS after first run | Cold start | Allocated/run |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    );
    const ratio = (a: number, b: number) => fixed(a / b, 2);
    for (const r of rows.filter((x) => x !== base))
      out.push(
        `| ${r.label} | ${ratio(base.overheadMsPerStep, r.overheadMsPerStep)} | ${ratio(base.cpuMsPerStep, r.cpuMsPerStep)} | ` +
          `${ratio(base.runsPerSecC1, r.runsPerSecC1)} | ` +
          `${ratio(base.runsPerSecC32, r.runsPerSecC32)} | ${ratio(base.overheadMsPerStepLatency, r.overheadMsPerStepLatency)} | ` +
          `${ratio(base.runsPerSecC32Latency, r.runsPerSecC32Latency)} | ${ratio(base.peakRss, r.peakRss)} | ` +
          `${ratio(base.peakHeap, r.peakHeap)} | ${ratio(base.rssAfterFirstRun, r.rssAfterFirstRun)} | ` +
          `${ratio(base.coldStartMs, r.coldStartMs)} | ${ratio(base.allocBytesPerRun, r.allocBytesPerRun)} |`,
      );
    const peers = rows.filter((r) => !r.framework.startsWith('switchboard'));
    if (peers.length > 0) {
      const fastest = peers.reduce((a, b) => (b.overheadMsPerStep < a.overheadMsPerStep ? b : a));
      const lightest = peers.reduce((a, b) => (b.peakRss < a.peakRss ? b : a));
      out.push(
        '',
        `Goal 1, durable overhead/step ≤ 1/3 of the fastest peer (${fastest.label}): ` +
          `${fixed(base.overheadMsPerStep, 3)} ms vs ${fixed(fastest.overheadMsPerStep / 3, 3)} ms → ` +
          `${base.overheadMsPerStep <= fastest.overheadMsPerStep / 3 ? 'met' : 'missed'}.`,
        `Goal 2, peak RSS below every peer (lightest: ${lightest.label}): ${fixed(base.peakRss / MB, 0)} MB vs ` +
          `${fixed(lightest.peakRss / MB, 0)} MB → ${base.peakRss < lightest.peakRss ? 'met' : 'missed'}.`,
      );
    }
  }
  for (const [name, reason] of unavailable) out.push('', `Not measured: ${name}: ${reason.split('\n')[0]}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

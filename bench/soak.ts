/**
 * `npm run -s bench:soak -- --json [--runs 100000] [--every 10000] [--clients 64]`: does a
 * long-running serving process level off? A project of one agent and one tool on the offline model
 * and the default durable SQLite store is served by the built package's `switchboard serve`, the way
 * a user runs it; `--clients` HTTP clients post `POST /v1/runs` with `wait: true` (each answered
 * with the finished run, so every run counted has completed) until `--runs` have finished. After
 * every `--every` runs the clients pause, the process goes idle (nothing queued, nothing in flight)
 * and its resident set is read from /proc — the lowest of a few samples over `--idle` seconds, since
 * V8 returns freed pages lazily. Goal (issue 20): RSS after 100,000 runs ≤ 1.2 × RSS after 10,000.
 *
 * Prints `{ "runs", "rssMbAfter": { "10000": …, … }, "ratio", "goal", "met", … }` with --json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '100000' },
    every: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '64' },
    idle: { type: 'string', default: '6' },
    keep: { type: 'boolean', default: false },
    'heap-snapshots': { type: 'boolean', default: false },
  },
  strict: true,
});
const RUNS = Number(values.runs);
const EVERY = Number(values.every);
const CLIENTS = Number(values.clients);
const IDLE_S = Number(values.idle);
for (const [flag, n] of [
  ['--runs', RUNS],
  ['--every', EVERY],
  ['--clients', CLIENTS],
] as const)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
if (RUNS % EVERY !== 0) throw new Error('--runs must be a multiple of --every');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'src', 'cli', 'bin.js');
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** The built package is what a user runs: rebuild it when a source file is newer. */
function ensureBuilt(): void {
  const built = existsSync(BIN) ? statSync(BIN).mtimeMs : 0;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > built,
    );
  if (built && !newer(join(ROOT, 'src'))) return;
  log('building the package (npm run build)…');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.status ?? r.signal})`);
}

/** A user's project: one agent, one read tool, the offline model, SQLite under its directory. */
function writeProject(dir: string): string {
  const index = pathToFileURL(join(ROOT, 'dist', 'src', 'index.js')).href;
  const zod = pathToFileURL(join(ROOT, 'node_modules', 'zod', 'index.js')).href;
  const file = join(dir, 'switchboard.config.mjs');
  writeFileSync(
    file,
    `import { defineAgent, defineConfig, defineTool } from ${JSON.stringify(index)};
import { z } from ${JSON.stringify(zod)};

const trackOrder = defineTool({
  name: 'track_order',
  description: 'Where an order is: carrier and status, by order number',
  input: z.object({ orderId: z.string().describe('order number, e.g. A-1001') }),
  risk: 'read',
  idempotent: true,
  run: ({ orderId }) => ({ orderId, carrier: 'DHL', status: 'in transit' }),
});

export default defineConfig({
  agents: [
    defineAgent({
      name: 'orders',
      responsibility: 'Answer questions about where an order is',
      instructions: 'Look the order up, then answer in one sentence.',
      tools: [trackOrder],
      concurrency: 32,
    }),
  ],
  store: { dataDir: 'data' },
  gateway: { port: 0, adminPort: 0 },
});
`,
  );
  return file;
}

function cli(config: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', config], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`switchboard ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** `switchboard serve` on free ports; resolves once /readyz answers. */
async function serve(config: string): Promise<{ child: ChildProcess; url: string }> {
  const port = 20_000 + (process.pid % 20_000);
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--config', config, '--port', String(port), '--admin-port', String(port + 1)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      cwd: join(config, '..'),
      // --heap-snapshots: a snapshot of the serving process at every sample (SIGUSR2), to find what
      // holds memory per run; the files are left in the project directory (kept).
      ...(values['heap-snapshots']
        ? { env: { ...process.env, NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' } }
        : {}),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`switchboard serve exited ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { child, url };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('switchboard serve did not become ready in 30 s');
}

/** Resident set of a process in MB, from /proc (what `ps` and the OOM killer see). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return Math.round(kb / 102.4) / 10;
}

/** `count` runs through POST /v1/runs, `CLIENTS` at a time, each waited for to completion. */
async function drive(url: string, key: string, from: number, count: number): Promise<number> {
  let next = from;
  let failed = 0;
  const end = from + count;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < end) {
        const n = next++;
        const res = await fetch(`${url}/v1/runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ input: `Where is order A-${n}?`, sessionId: `soak-${n}`, wait: true }),
        });
        const body = (await res.json()) as { status?: string };
        if (res.status !== 200 || body.status !== 'completed') failed++;
      }
    }),
  );
  return failed;
}

async function idleRss(pid: number): Promise<number> {
  let low = Number.POSITIVE_INFINITY;
  const samples = Math.max(1, Math.round(IDLE_S * 2));
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, 500));
    low = Math.min(low, rssMb(pid));
  }
  return low;
}

ensureBuilt();
const dir = mkdtempSync(join(tmpdir(), 'switchboard-soak-'));
const config = writeProject(dir);
const { key } = JSON.parse(
  cli(config, 'keys', 'create', '--name', 'soak', '--role', 'user', '--plan', 'unlimited', '--json'),
) as { key: string };
const { child, url } = await serve(config);
const pid = child.pid!;
const rssMbAfter: Record<string, number> = {};
let failed = 0;
const started = performance.now();
try {
  rssMbAfter['0'] = await idleRss(pid);
  log(`idle before the first run: ${rssMbAfter['0']} MB`);
  for (let done = 0; done < RUNS; done += EVERY) {
    const t0 = performance.now();
    failed += await drive(url, key, done, EVERY);
    const rate = EVERY / ((performance.now() - t0) / 1000);
    rssMbAfter[String(done + EVERY)] = await idleRss(pid);
    if (values['heap-snapshots']) process.kill(pid, 'SIGUSR2');
    log(`${done + EVERY} runs (${rate.toFixed(0)} runs/s): RSS ${rssMbAfter[String(done + EVERY)]} MB idle`);
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  if (values.keep || values['heap-snapshots']) log(`project kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

const first = rssMbAfter[String(EVERY)]!;
const last = rssMbAfter[String(RUNS)]!;
const ratio = Math.round((last / first) * 100) / 100;
const result = {
  runs: RUNS,
  failed,
  clients: CLIENTS,
  seconds: Math.round((performance.now() - started) / 100) / 10,
  rssMbAfter,
  ratio,
  goal: 1.2,
  met: ratio <= 1.2 && failed === 0,
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else
  log(
    `RSS after ${RUNS} runs ${last} MB vs ${first} MB after ${EVERY}: ×${ratio} (goal ≤ 1.2: ${result.met ? 'met' : 'missed'}); ${failed} failed`,
  );
if (failed > 0) process.exitCode = 1;

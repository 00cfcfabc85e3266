/**
 * `npm run bench:startup -- --json`: CLI start-up the way a user meets it. The package is built,
 * packed and installed into a fresh project outside the checkout; then, interleaved over rounds,
 * `switchboard --help` and one `switchboard run "<request>"` on the offline model are timed from
 * spawn to exit — from the installed package and from the checkout's sources — against bare
 * `node -e 0` in the same rounds, so the ratios hold on a noisy machine.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const REQUEST = 'Where is order A-1001?';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** A child's environment without our own settings: SWITCHBOARD_MODEL and friends would change the run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && !k.startsWith('npm_')) env[k] = v;
  return env;
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Spawn and wait for exit; `ms` is wall time from just before spawn to the exit event. */
function exec(command: string, args: string[], options: SpawnOptions): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { ...options, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      // Output can still be in flight at 'exit'; 'close' waits for it (not part of the timing).
      child.on('close', () => resolve({ code, stdout, stderr, ms }));
    });
  });
}

async function must(command: string, args: string[], cwd: string): Promise<Exit> {
  const r = await exec(command, args, { cwd });
  if (r.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stderr || r.stdout}`);
  return r;
}

/** One agent, one read tool, the offline model: plain JS, so loading it needs no type stripping. */
const configSource = (from: { switchboard: string; zod: string }): string => `import { z } from '${from.zod}';
import { defineAgent, defineConfig, defineTool } from '${from.switchboard}';

const orders = new Map([['A-1001', { orderId: 'A-1001', status: 'shipped', eta: 'Friday' }]]);

const getOrder = defineTool({
  name: 'get_order',
  description: 'Look up an order by its id (A-1234): status and delivery date',
  input: z.object({ orderId: z.string().regex(/^A-\\d{4}$/).describe('The order id, e.g. A-1001') }),
  risk: 'read',
  idempotent: true,
  examples: ['Where is order A-1001?', 'When does A-1002 arrive?'],
  run: async ({ orderId }) => {
    const order = orders.get(orderId);
    if (!order) throw new Error(\`no order \${orderId}\`);
    return { ...order, summary: \`Order \${orderId} is \${order.status}, arriving \${order.eta}.\` };
  },
});

const shop = defineAgent({
  name: 'shop',
  responsibility: 'Orders: where they are and when they arrive',
  instructions: 'Look the order up. Answer in one sentence.',
  tools: [getOrder],
  examples: ['Where is order A-1001?'],
});

export default defineConfig({ agents: [shop], model: 'offline', store: { dataDir: '.switchboard' } });
`;

const work = mkdtempSync(join(tmpdir(), 'sb-startup-'));
try {
  log(`building ${pkg.name}@${pkg.version} (npm run build)`);
  await must('npm', ['run', 'build'], ROOT);
  // --ignore-scripts: prepack would build again, and rebuild the console, which start-up never loads.
  log('packing (npm pack)');
  await must('npm', ['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);

  // Projects of their own, outside the checkout: nothing resolves through the repository's node_modules.
  const installed = join(work, 'installed');
  const checkout = join(work, 'checkout');
  mkdirSync(installed);
  mkdirSync(checkout);
  writeFileSync(
    join(installed, 'package.json'),
    `${JSON.stringify({ name: 'startup-bench', private: true, type: 'module' }, null, 2)}\n`,
  );
  log(`installing ${tarball} into ${installed} (npm install)`);
  await must('npm', ['install', '--no-audit', '--no-fund', join(work, tarball)], installed);
  writeFileSync(
    join(installed, 'switchboard.config.mjs'),
    configSource({ switchboard: pkg.name, zod: 'zod' }),
  );
  // The checkout's CLI loads the same configuration, importing the checkout's sources (and its zod).
  writeFileSync(
    join(checkout, 'switchboard.config.mjs'),
    configSource({
      switchboard: pathToFileURL(join(ROOT, 'src', 'index.ts')).href,
      zod: import.meta.resolve('zod'),
    }),
  );

  const installedBin = join('node_modules', '.bin', 'switchboard');
  const checkoutBin = join(ROOT, 'bin', 'switchboard.js');
  const node = process.execPath;
  const commands = {
    bareNode: { cwd: installed, args: ['-e', '0'], check: (_: Exit) => true },
    installedHelp: { cwd: installed, args: [installedBin, '--help'], check: isHelp },
    installedRun: { cwd: installed, args: [installedBin, 'run', REQUEST], check: isCompletedRun },
    checkoutHelp: { cwd: checkout, args: [checkoutBin, '--help'], check: isHelp },
    checkoutRun: { cwd: checkout, args: [checkoutBin, 'run', REQUEST], check: isCompletedRun },
  };
  type Name = keyof typeof commands;
  const names = Object.keys(commands) as Name[];
  const samples = new Map<Name, number[]>(names.map((n) => [n, []]));

  const once = async (name: Name): Promise<number> => {
    const c = commands[name];
    const r = await exec(node, c.args, { cwd: c.cwd });
    if (r.code !== 0 || !c.check(r))
      throw new Error(`${name}: node ${c.args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r.ms;
  };
  // Warm-up, not counted: the first run creates the data directory and its database, and the
  // first reads of the installed files fill the page cache.
  for (const name of names) await once(name);
  const load0 = loadavg()[0]!;
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    for (const name of names) samples.get(name)!.push(await once(name));
  }
  const load1 = loadavg()[0]!;

  // Linear interpolation between order statistics: with 10 rounds p90 is not simply the slowest.
  const quantile = (xs: number[], q: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (s.length - 1) * q;
    const lo = Math.floor(at);
    return (s[lo] ?? NaN) + ((s[Math.ceil(at)] ?? NaN) - (s[lo] ?? NaN)) * (at - lo);
  };
  const ms = (x: number): number => +x.toFixed(1);
  const bare = quantile(samples.get('bareNode')!, 0.5);
  const stat = (name: Name) => {
    const xs = samples.get(name)!;
    const p50 = quantile(xs, 0.5);
    return { medianMs: ms(p50), p90Ms: ms(quantile(xs, 0.9)), ratioToBareNode: +(p50 / bare).toFixed(2) };
  };
  const out = {
    package: `${pkg.name}@${pkg.version}`,
    node: process.version,
    rounds,
    request: REQUEST,
    loadAverage: { start: +load0.toFixed(2), end: +load1.toFixed(2) },
    bareNode: { medianMs: ms(bare), p90Ms: ms(quantile(samples.get('bareNode')!, 0.9)) },
    installed: { help: stat('installedHelp'), run: stat('installedRun') },
    checkout: { help: stat('checkoutHelp'), run: stat('checkoutRun') },
  };
  if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    const row = (label: string, s: { medianMs: number; p90Ms: number; ratioToBareNode?: number }) =>
      `${label.padEnd(34)} ${String(s.medianMs).padStart(8)} ${String(s.p90Ms).padStart(8)} ${(s.ratioToBareNode === undefined ? '1' : String(s.ratioToBareNode)).padStart(8)}`;
    console.log(
      `${out.package} on Node ${out.node}, ${rounds} rounds, load ${load0.toFixed(2)}→${load1.toFixed(2)}`,
    );
    console.log(
      `${'command'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'× node'.padStart(8)}`,
    );
    console.log(row('node -e 0', out.bareNode));
    console.log(row('installed: switchboard --help', out.installed.help));
    console.log(row('installed: switchboard run', out.installed.run));
    console.log(row('checkout: bin/switchboard.js --help', out.checkout.help));
    console.log(row('checkout: bin/switchboard.js run', out.checkout.run));
  }
} finally {
  if (values.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

function isHelp(r: Exit): boolean {
  return r.stdout.startsWith('Usage: switchboard');
}

/** The run ended completed and answered from the tool (not a canned reply). */
function isCompletedRun(r: Exit): boolean {
  return /^completed \(shop\): .*A-1001/m.test(r.stdout);
}

/**
 * Project commands: `init [dir]` writes a working project; `dev` serves one (gateway, console,
 * workers) and restarts the serving process when the configuration or a file it imports changes.
 * The journal survives the restart, so a run in flight continues on the new code without
 * repeating a recorded step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { CONFIG_FLAG } from './app.ts';
import { listenerFlags, type ListenerFlags } from './serve.ts';
import { scaffoldFiles } from './scaffold.ts';
import { untilSignal } from './signals.ts';
import { fromSources, packageInfo, packageRoot } from '../package-info.ts';

/** `switchboard init [dir]`: refuses to overwrite files that exist. */
export function initProject(dir: string, print: (line: string) => void): void {
  const target = resolve(dir);
  const pkg = packageInfo();
  const name =
    basename(target)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'switchboard-app';
  const files = scaffoldFiles({
    name,
    packageName: pkg.name,
    packageRange: `^${pkg.version}`,
    zodRange: pkg.dependencies?.zod ?? '^4.0.0',
  });
  // An existing package.json (`npm install switchboard-runtime` made one) is merged into, not
  // replaced: the project's scripts and versions win; every other file must not exist yet.
  const manifest = join(target, 'package.json');
  if (existsSync(manifest))
    files['package.json'] = mergeManifest(readFileSync(manifest, 'utf8'), files['package.json']!, dir);
  const clash = Object.keys(files).filter((f) => f !== 'package.json' && existsSync(join(target, f)));
  if (clash.length)
    throw new InvalidArgumentError(`${dir}: ${clash.join(', ')} already exist; choose an empty directory`);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    writeFileSync(join(target, file), text);
  }
  const shown = relative(process.cwd(), target) || '.';
  print(`created a Switchboard project in ${shown}: ${Object.keys(files).join(', ')}`);
  print('next:');
  if (shown !== '.') print(`  cd ${shown}`);
  print('  npm install');
  print('  npx switchboard run "What is the status of ticket T-1001?"');
  print('  npx switchboard dev      # gateway + console on http://127.0.0.1:7070, reloads on save');
  print('  npm test');
}

interface Manifest {
  type?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The scaffold's package.json merged into an existing one (its own values kept). */
function mergeManifest(existing: string, scaffold: string, dir: string): string {
  let own: Manifest;
  try {
    own = JSON.parse(existing) as Manifest;
  } catch {
    throw new InvalidArgumentError(`${dir}: package.json is not JSON`);
  }
  if (own.type === 'commonjs')
    throw new InvalidArgumentError(
      `${dir}: package.json says "type": "commonjs"; the project needs ES modules`,
    );
  const ours = JSON.parse(scaffold) as Manifest;
  const merged: Manifest = {
    ...ours,
    ...own,
    type: 'module',
    scripts: { ...ours.scripts, ...own.scripts },
    dependencies: { ...ours.dependencies, ...own.dependencies },
  };
  return `${JSON.stringify(merged, null, 2)}\n`;
}

/** Files under `root` whose change restarts `dev` (sources and JSON; not dependencies or data). */
export function watchedChange(root: string, file: string, ignore: readonly string[]): boolean {
  if (!/\.(ts|mts|cts|js|mjs|cjs|json)$/.test(file)) return false;
  const parts = file.split(sep);
  if (parts.some((p) => p === 'node_modules' || p.startsWith('.') || p === 'dist')) return false;
  const full = resolve(root, file);
  return !ignore.some((dir) => full === dir || full.startsWith(dir + sep));
}

/** The `switchboard` entry point of this installation (source in the checkout, built in the package). */
const binPath = (): string =>
  fromSources()
    ? join(packageRoot(), 'src', 'cli', 'bin.ts')
    : join(packageRoot(), 'dist', 'src', 'cli', 'bin.js');

/**
 * `switchboard dev`: a supervisor. It runs `switchboard serve` in a child process and, when a
 * watched file changes, stops it gracefully (in-flight steps commit or hand their wake-ups back)
 * and starts a new one on the new code. The child tells the console it was reloaded.
 */
export async function devCommand(
  opts: ListenerFlags & { config?: string },
  print: (line: string) => void,
): Promise<void> {
  const { cliConfig } = await import('./app.ts');
  const config = await cliConfig(opts.config); // fail fast, exit 2, on a bad configuration
  const configPath = config.source ? resolve(config.source) : resolve(opts.config ?? 'switchboard.config.ts');
  const root = dirname(configPath);
  const flags = [
    ...(opts.port !== undefined ? ['--port', String(opts.port)] : []),
    ...(opts.adminPort !== undefined ? ['--admin-port', String(opts.adminPort)] : []),
    ...(opts.host ? ['--host', opts.host] : []),
  ];
  let generation = 0;
  let child: ChildProcess | null = null;
  let reason = 'started';
  const start = (): void => {
    generation++;
    const c = spawn(
      process.execPath,
      [
        ...process.execArgv,
        binPath(),
        'serve',
        '--config',
        configPath,
        ...flags,
        '--dev-reload',
        `${generation}:${reason}`,
      ],
      { stdio: 'inherit' },
    );
    child = c;
    c.on('exit', (code, signal) => {
      if (child === c) {
        child = null;
        print(
          `[dev] serving process ${signal ? `stopped by ${signal}` : `exited (${code})`}; fix the error and save to restart`,
        );
      }
    });
  };
  const stopChild = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    child = null;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  let timer: NodeJS.Timeout | null = null;
  let restarting = Promise.resolve();
  const changed = new Set<string>();
  const watcher: FSWatcher = watch(root, { recursive: true }, (_event, file) => {
    if (!file || !watchedChange(root, file.toString(), [config.store.dataDir])) return;
    changed.add(file.toString());
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed];
      changed.clear();
      reason = `changed ${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''}`;
      restarting = restarting.then(async () => {
        print(`[dev] ${reason}: restarting`);
        await stopChild();
        start();
      });
    }, 150);
  });
  print(
    `[dev] watching ${relative(process.cwd(), root) || '.'} (${countSources(root)} source files); Ctrl-C to stop`,
  );
  start();
  await untilSignal();
  watcher.close();
  if (timer) clearTimeout(timer);
  await restarting;
  await stopChild();
}

function countSources(root: string): number {
  let n = 0;
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? join(rel, e.name) : e.name;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.') && e.name !== 'dist')
          walk(join(dir, e.name), r);
      } else if (watchedChange(root, r, [])) n++;
    }
  };
  walk(root, '');
  return n;
}

export function registerProjectCommands(program: Command): void {
  program
    .command('init')
    .description('write a new project: switchboard.config.ts with one agent and two tools, a test, a README')
    .argument('[dir]', 'where (default: the current directory)', '.')
    .action((dir: string) => {
      initProject(dir, console.log);
    });

  listenerFlags(
    program
      .command('dev')
      .description(
        'serve the project with the console; restart its workers when the config or its imports change',
      )
      .option(...CONFIG_FLAG),
  ).action(async (opts: ListenerFlags & { config?: string }) => {
    await devCommand(opts, console.log);
  });
}

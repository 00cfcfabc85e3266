/**
 * `switchboard demo` (what `npm start` runs): open the reference example
 * (examples/enterprise/switchboard.config.ts, its business data seeded if needed) or `--config`,
 * start its workers, the gateway and console on 127.0.0.1:7070, print user, approver and admin keys,
 * then play the config module's `tour` so the console has real runs to show. `--exit` ends after
 * the tour with a summary table (exit 0 when every step behaved as designed).
 */
import { pathToFileURL } from 'node:url';
import { join, relative, resolve } from 'node:path';
import { fromSources, packageRoot } from '../package-info.ts';
import { startDemoGateway } from '../gateway/cli.ts';
import { startIdleCompaction } from './idle-gc.ts';
import { newId } from '../core/ids.ts';
import type { Project } from '../project.ts';
import type { Telemetry } from '../telemetry/index.ts';
import { openCli } from './app.ts';
import { adminRoutes, telemetryFor } from './serve.ts';
import { describeEvent } from './trace.ts';
import { untilSignal } from './signals.ts';

export interface TourStep {
  title: string;
  input: string;
  /** Statuses that count as this step behaving as designed. */
  expect: string[];
  agent?: string;
  /** Same session as the previous step (multi-turn). */
  sameSession?: boolean;
  /** Journal event types the step must show (e.g. a retry, a delegation). */
  shows?: string[];
}

/** The reference example, beside `src/` in the checkout and `dist/src/` in the package (never imported statically). */
export const exampleConfig = (): string =>
  fromSources()
    ? join(packageRoot(), 'examples', 'enterprise', 'switchboard.config.ts')
    : join(packageRoot(), 'dist', 'examples', 'enterprise', 'switchboard.config.js');

export interface DemoOptions {
  reset: boolean;
  exit: boolean;
  listen?: { port?: number; adminPort?: number; host?: string };
  /** A project of your own instead of the reference example; its `tour` export is played. */
  config?: string;
}

/**
 * The listeners of a demo: the flags given, else the configuration's; a tour that exits binds
 * ephemeral ports unless a port was asked for, so a busy 7070 never stops `demo --exit`.
 */
export function demoListeners(options: DemoOptions): NonNullable<DemoOptions['listen']> {
  const flags = options.listen ?? {};
  if (!options.exit) return flags;
  return { ...flags, port: flags.port ?? 0, adminPort: flags.adminPort ?? 0 };
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const configPath = options.config ? resolve(options.config) : exampleConfig();
  const app = await openCli(configPath, { role: 'demo', reset: options.reset });
  const { system } = app;
  let telemetry: Telemetry | null = null;
  let gateway: { stop(): Promise<void> } | null = null;
  let stopCompaction = (): void => {};
  // Everything opened is closed however the demo ends, a failed start-up included (a listener
  // that cannot bind must not leave workers keeping the process alive).
  try {
    const mod = (await import(pathToFileURL(configPath).href)) as { tour?: TourStep[] };
    await system.start();
    gateway = await startDemoGateway(app, console.log, demoListeners(options), {
      adminRoutes: adminRoutes(() => telemetry),
    });
    telemetry = await telemetryFor(app);
    stopCompaction = startIdleCompaction();
    return await playTour(app, configPath, mod.tour ?? [], options.exit);
  } finally {
    stopCompaction();
    await gateway?.stop();
    await telemetry?.stop();
    await app.close();
  }
}

/** Play the tour on the started demo; 0 when every step behaved as designed. */
async function playTour(app: Project, configPath: string, tour: TourStep[], exit: boolean): Promise<number> {
  const { system } = app;
  console.log(
    `\nSwitchboard demo: ${app.config.source ?? configPath} (${app.agents.length} agents: ${app.agents.map((a) => a.name).join(', ')}; ${app.modelLabel})`,
  );
  console.log(
    `data: ${app.config.store.url ? `postgres schema ${app.config.store.schema}` : app.config.store.dataDir}\n`,
  );
  const rows: { step: string; status: string; agent: string; ok: boolean; runId: string }[] = [];
  let session = newId('tour');
  for (const step of tour) {
    if (!step.sameSession) session = newId('tour');
    console.log(`▶ ${step.title}\n  "${step.input}"`);
    const { runId } = await system.submit({
      actorId: 'demo-user',
      sessionId: session,
      input: step.input,
      channel: 'demo',
      ...(step.agent ? { agent: step.agent } : {}),
    });
    const seen = new Set<string>();
    for await (const e of system.events(runId)) {
      seen.add(e.type);
      if (
        [
          'progress',
          'route.decided',
          'route.escalated',
          'delegation.requested',
          'tool.failed',
          'approval.requested',
        ].includes(e.type)
      ) {
        console.log(`    ${describeEvent(e).split('\n')[0]}`);
      }
      if (e.type === 'run.needs_attention' || e.type === 'approval.requested') break;
    }
    const run = await system.get(runId);
    const ok = step.expect.includes(run.status) && (step.shows ?? []).every((t) => seen.has(t));
    rows.push({ step: step.title, status: run.status, agent: run.agent ?? '-', ok, runId });
    const said =
      run.output ??
      run.escalation?.reason ??
      run.error?.message ??
      (run.status === 'waiting' ? 'waiting for an approver' : '');
    console.log(`  ${ok ? '✔' : '✘'} ${run.status}: ${said}\n`);
  }
  console.log(`${'step'.padEnd(52)}${'agent'.padEnd(13)}${'status'.padEnd(12)}run`);
  for (const r of rows)
    console.log(
      `${r.ok ? '✔' : '✘'} ${r.step.padEnd(50)}${r.agent.padEnd(13)}${r.status.padEnd(12)}${r.runId}`,
    );
  // The commands act on this project: name it unless it is the current directory's.
  const rel = relative(process.cwd(), configPath);
  const flag = rel === 'switchboard.config.ts' ? '' : ` --config ${rel}`;
  console.log(`\nTrace any run with: npx switchboard trace <run>${flag}`);
  if (!exit) {
    console.log(
      `Approve the waiting refund in the console (approver key) or with: npx switchboard approvals --pending${flag}`,
    );
    console.log('Serving until Ctrl-C.');
    await untilSignal();
  }
  return rows.every((r) => r.ok) ? 0 : 1;
}

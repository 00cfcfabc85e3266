/**
 * Operator commands: approvals, audit verification, replay, agent health, usage, graphs.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Project } from '../project.ts';
import type { System } from '../system.ts';
import type { Actor } from '../runtime/approvals.ts';
import { CONFIG_FLAG, withProject } from './app.ts';

/** Open the configured system without workers, run `fn`, close it. */
function withApp<T>(flag: string | undefined, fn: (app: Project, system: System) => Promise<T>): Promise<T> {
  return withProject(flag, { workers: false }, (project) => fn(project, project.system));
}

const telemetry = () => import('../telemetry/commands.ts');
const prices = async (app: Project) =>
  (await import('../telemetry/cost.ts')).priceTable(app.config.telemetry.prices, {});

const DURATION = /^\d+(ms|s|m|h|d)$/;
const duration = (value: string): string => {
  if (!DURATION.test(value)) throw new InvalidArgumentError('must be a duration like 15m, 24h or 7d');
  return value;
};

/** The CLI acts as an operator principal; `--as` names it (it may not approve its own requests). */
const cliActor = (id: string): Actor => ({ id, roles: ['approver', 'operator'] });

/** The operator's commands: approvals, `verify`, `replay`, then the telemetry reports. */
export function registerOpsCommands(program: Command): void {
  program
    .command('approvals')
    .description('list approval requests (the inbox)')
    .option('--pending', 'only pending requests')
    .option('--json', 'print JSON')
    .option(...CONFIG_FLAG)
    .action(async (opts: { pending?: boolean; json?: boolean; config?: string }) => {
      await withApp(opts.config, async (_app, system) => {
        const rows = await system.approvals.list({
          ...(opts.pending ? { status: 'pending' } : {}),
          limit: 200,
        });
        if (opts.json) return void console.log(JSON.stringify(rows));
        if (rows.length === 0)
          return void console.log(opts.pending ? 'no pending approvals' : 'no approvals');
        for (const a of rows) {
          console.log(
            `${a.approvalId}  ${a.status.padEnd(8)} ${a.agent}/${a.tool} ${JSON.stringify(a.args)}  requested by ${a.requestedBy}  run ${a.runId}`,
          );
          console.log(
            `    ${a.reasons.join('; ')}${a.approver ? ` — ${a.status} by ${a.approver}${a.comment ? `: ${a.comment}` : ''}` : ''}`,
          );
        }
      });
    });

  for (const decision of ['approve', 'reject'] as const) {
    const cmd = program
      .command(decision)
      .description(`${decision} a pending approval request`)
      .argument('<approvalId>', 'the approval')
      .option('--as <principal>', 'who decides (must differ from the requester)', 'cli-operator')
      .option(...CONFIG_FLAG);
    if (decision === 'reject') cmd.requiredOption('--comment <text>', 'why (told to the agent)');
    else cmd.option('--comment <text>', 'a note for the record');
    cmd.action(async (approvalId: string, opts: { as: string; comment?: string; config?: string }) => {
      await withApp(opts.config, async (_app, system) => {
        const row = await system.approvals.decide(approvalId, {
          decision: decision === 'approve' ? 'approved' : 'rejected',
          approver: cliActor(opts.as),
          ...(opts.comment ? { comment: opts.comment } : {}),
        });
        console.log(
          `${row.approvalId} ${row.status} by ${row.approver}; run ${row.runId} resumes on the next worker`,
        );
      });
    });
  }

  program
    .command('verify')
    .description(
      "recompute runs' hash chains and compare them with their sealed heads: altered, truncated and deleted runs",
    )
    .argument('[runId]', 'one run')
    .option('--all', 'every run (every journal and every head)')
    .option(
      '--allow-unkeyed',
      'accept unkeyed hashes and unsealed heads (runs from before audit.key was set)',
    )
    .option(...CONFIG_FLAG)
    .action(
      async (runId: string | undefined, opts: { all?: boolean; allowUnkeyed?: boolean; config?: string }) => {
        if (!runId === !opts.all) throw new InvalidArgumentError('give a run id or --all');
        await withApp(opts.config, async (_app, system) => {
          const { verifyCommand } = await import('./verify.ts');
          process.exitCode = await verifyCommand(system, { ...(runId ? { runId } : {}), ...opts });
        });
      },
    );

  program
    .command('replay')
    .description(
      "re-execute a run from its journal (no model call, no side effect) and compare the code's decisions",
    )
    .argument('<runId>', 'the run')
    .option(
      '--with <file>',
      'a second switchboard config (or a module of changed agents, router or retrievers) to replay against',
    )
    .option('--json', 'print the report as JSON')
    .option(...CONFIG_FLAG)
    .action(async (runId: string, opts: { with?: string; json?: boolean; config?: string }) => {
      await withApp(opts.config, async (app, system) => {
        const { replayCommand } = await import('../replay/command.ts');
        const { replayConfigOf } = await import('../replay/replay.ts');
        const r = await replayCommand(system.store, {
          runId,
          base: replayConfigOf(system),
          definitions: app.agents,
          ...(opts.with ? { with: opts.with } : {}),
          ...(opts.json ? { json: true } : {}),
        });
        console.log(r.output);
        process.exitCode = r.exitCode;
      });
    });

  registerTelemetryCommands(program);
}

/** `agents`, `usage` and `graph`: health, cost and the orchestration graph, read from the store. */
function registerTelemetryCommands(program: Command): void {
  program
    .command('agents')
    .description(
      'agent health over a rolling window: success rate, latency, retries, denials, queue depth; each version side by side',
    )
    .option('--window <duration>', 'the window', duration, '15m')
    .option('--json', 'print JSON')
    .option(...CONFIG_FLAG)
    .action(async (opts: { window: string; json?: boolean; config?: string }) => {
      await withApp(opts.config, async (app, system) => {
        const t = await telemetry();
        console.log(
          await t.agentsCommand(system.store, {
            ...t.agentLabels(app.agents),
            versions: system.deployments,
            window: opts.window,
            ...(opts.json ? { json: true } : {}),
          }),
        );
      });
    });

  program
    .command('usage')
    .description('tokens and cost by agent, actor or model')
    .option(
      '--by <dimension>',
      'agent, actor or model',
      (v: string) => {
        if (!['agent', 'actor', 'model'].includes(v))
          throw new InvalidArgumentError('must be agent, actor or model');
        return v as 'agent' | 'actor' | 'model';
      },
      'agent' as const,
    )
    .option('--since <duration>', 'the window', duration, '24h')
    .option('--json', 'print JSON')
    .option(...CONFIG_FLAG)
    .action(
      async (opts: { by: 'agent' | 'actor' | 'model'; since: string; json?: boolean; config?: string }) => {
        await withApp(opts.config, async (app, system) => {
          console.log(
            await (
              await telemetry()
            ).usageCommand(system.store, {
              by: opts.by,
              since: opts.since,
              prices: await prices(app),
              ...(opts.json ? { json: true } : {}),
            }),
          );
        });
      },
    );

  program
    .command('graph')
    .description('the orchestration graph of a run, or of the whole system over a window')
    .argument('[runId]', 'one run (its delegated runs included)')
    .option(
      '--format <format>',
      'mermaid or json',
      (v: string) => {
        if (v !== 'mermaid' && v !== 'json') throw new InvalidArgumentError('must be mermaid or json');
        return v;
      },
      'mermaid' as const,
    )
    .option('--since <duration>', 'window of the aggregate graph', duration, '24h')
    .option(...CONFIG_FLAG)
    .action(
      async (
        runId: string | undefined,
        opts: { format: 'mermaid' | 'json'; since: string; config?: string },
      ) => {
        await withApp(opts.config, async (app, system) => {
          console.log(
            await (
              await telemetry()
            ).traceGraphCommand(system.store, {
              graph: opts.format,
              since: opts.since,
              prices: await prices(app),
              ...(runId ? { runId } : {}),
            }),
          );
        });
      },
    );
}

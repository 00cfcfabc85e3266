/**
 * The `switchboard` command. Every subcommand validates its flags; unknown flags and bad values
 * exit non-zero with one line saying why.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { packageInfo } from '../package-info.ts';
import { ConfigError, SwitchboardError } from '../core/errors.ts';
import type { JournalEvent } from '../core/events.ts';
import { RUN_STATUSES, type RunStatus } from '../core/run-state.ts';
import type { System } from '../system.ts';
import { CONFIG_FLAG, withProject } from './app.ts';
import { registerOpsCommands } from './ops.ts';
import { registerServeCommands, listenerFlags, type ListenerFlags } from './serve.ts';
import { registerMemoryCommands } from './memory.ts';
import { registerChatCommand } from './chat.ts';
import { registerProjectCommands } from './project.ts';
import { registerScheduleCommands } from './schedules.ts';
import { registerDeploymentCommands } from './deployments.ts';
import { registerBatchCommands } from './batch.ts';

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const status = (value: string): RunStatus => {
  if (!(RUN_STATUSES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${RUN_STATUSES.join(', ')}`);
  }
  return value as RunStatus;
};

const nonEmpty =
  (name: string) =>
  (value: string): string => {
    if (!value.trim()) throw new InvalidArgumentError(`${name} must not be empty`);
    return value;
  };

/** Run `fn` on the configured system (with its workers, or none); it is closed however `fn` ends. */
function withSystem<T>(
  flag: string | undefined,
  workers: boolean,
  fn: (system: System) => Promise<T>,
): Promise<T> {
  return withProject(flag, { workers }, (project) => fn(project.system));
}

async function traceWithChildren(system: System, runId: string, indent = ''): Promise<string[]> {
  const { formatTrace } = await import('./trace.ts');
  const events = await system.store.journal.read(runId);
  const lines: string[] = [];
  for (const line of formatTrace(events).split('\n')) lines.push(indent + line);
  for (const e of events) {
    if (e.type === 'delegation.requested') {
      lines.push(`${indent}  ┌ child run ${e.data.childRunId} (${e.data.agent})`);
      lines.push(...(await traceWithChildren(system, e.data.childRunId, `${indent}  │ `)));
    }
  }
  return lines;
}

/** The package's version. */
export function packageVersion(): string {
  return packageInfo().version;
}

/** The `switchboard` program: every command, in the order `--help` lists them. */
export function buildProgram(): Command {
  const program = new Command('switchboard')
    .description('Durable, governed, explainable multi-agent runtime')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError()
    // Usage errors (unknown flag, bad value, missing argument) end in main() with exit code 2.
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') });

  registerRunCommands(program);
  registerRunInspectionCommands(program);
  registerToolCommands(program);
  registerOpsCommands(program);
  registerServeCommands(program);
  registerMemoryCommands(program);
  registerChatCommand(program);
  registerProjectCommands(program);
  registerScheduleCommands(program);
  registerDeploymentCommands(program);
  registerBatchCommands(program);
  return program;
}

/** `run` (submit and follow) and `runs` (list). */
function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('submit a request, print progress while it works, then the result')
    .argument('<text>', 'the request', nonEmpty('text'))
    .option('--actor <id>', 'acting principal', nonEmpty('--actor'), 'cli')
    .option('--session <id>', 'session id (a new one by default)', nonEmpty('--session'))
    .option('--agent <name>', 'skip routing and use this agent', nonEmpty('--agent'))
    .option('--json', 'print the finished run as JSON')
    .option(...CONFIG_FLAG)
    .action(
      async (
        text: string,
        opts: { actor: string; session?: string; agent?: string; json?: boolean; config?: string },
      ) => {
        await withSystem(opts.config, true, async (system) => {
          const { newId } = await import('../system.ts');
          const sessionId = opts.session ?? newId('cli');
          const { runId } = await system.submit({
            actorId: opts.actor,
            sessionId,
            input: text,
            channel: 'cli',
            ...(opts.agent ? { agent: opts.agent } : {}),
          });
          const say = (line: string): void => {
            (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
          };
          say(`run ${runId} (session ${sessionId})`);
          const { followRun } = await import('./follow-run.ts');
          await followRun(system, runId, say);
          const run = await system.get(runId);
          if (opts.json) process.stdout.write(`${JSON.stringify(run)}\n`);
          else {
            say(
              `${run.status}${run.agent ? ` (${run.agent})` : ''}: ${run.output ?? run.error?.message ?? run.escalation?.reason ?? run.attention?.reason ?? ''}`,
            );
          }
          process.exitCode =
            run.status === 'completed' || run.status === 'escalated' || run.status === 'waiting' ? 0 : 1;
        });
      },
    );

  program
    .command('runs')
    .description('list runs, newest first')
    .option('--status <status>', 'only runs with this status', status)
    .option('--session <id>', 'only runs of this session')
    .option('--actor <id>', 'only runs of this actor')
    .option('--limit <n>', 'at most n runs', positiveInt, 20)
    .option('--json', 'print JSON')
    .option(...CONFIG_FLAG)
    .action(
      async (opts: {
        status?: RunStatus;
        session?: string;
        actor?: string;
        limit: number;
        json?: boolean;
        config?: string;
      }) => {
        await withSystem(opts.config, false, async (system) => {
          const rows = await system.list({
            limit: opts.limit,
            ...(opts.status ? { status: opts.status } : {}),
            ...(opts.session ? { sessionId: opts.session } : {}),
            ...(opts.actor ? { actorId: opts.actor } : {}),
          });
          if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
          if (rows.length === 0) return void console.log('no runs');
          for (const r of rows) {
            console.log(
              `${r.runId}  ${r.status.padEnd(15)} ${(r.agent ?? '-').padEnd(12)} ${new Date(r.updatedAt).toISOString()}  ${r.actorId}/${r.sessionId}  ${(r.summary ?? '').slice(0, 60)}`,
            );
          }
        });
      },
    );
}

/** `trace`, `cancel` and `resolve`: one run's timeline, and the operator's hands on it. */
function registerRunInspectionCommands(program: Command): void {
  program
    .command('trace')
    .description("a readable timeline of a run's journal, delegated runs included")
    .argument('<runId>', 'the run', nonEmpty('runId'))
    .option('--json', 'print the journal events as JSON')
    .option('--graph <format>', 'print the orchestration graph instead: mermaid or json', (v: string) => {
      if (v !== 'mermaid' && v !== 'json') throw new InvalidArgumentError('must be mermaid or json');
      return v;
    })
    .option(...CONFIG_FLAG)
    .action(async (runId: string, opts: { json?: boolean; graph?: 'mermaid' | 'json'; config?: string }) => {
      await withProject(opts.config, { workers: false }, async ({ system, config }) => {
        if (opts.graph) {
          const { traceGraphCommand } = await import('../telemetry/commands.ts');
          const { priceTable } = await import('../telemetry/cost.ts');
          console.log(
            await traceGraphCommand(system.store, {
              runId,
              graph: opts.graph,
              prices: priceTable(config.telemetry.prices),
            }),
          );
          return;
        }
        const events: JournalEvent[] = await system.store.journal.read(runId);
        if (events.length === 0) {
          console.error(`switchboard: run ${runId} not found`);
          process.exitCode = 1;
          return;
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(events)}\n`);
        else console.log((await traceWithChildren(system, runId)).join('\n'));
      });
    });

  program
    .command('cancel')
    .description('cancel a run (and the runs it delegated to)')
    .argument('<runId>', 'the run', nonEmpty('runId'))
    .option(...CONFIG_FLAG)
    .action(async (runId: string, opts: { config?: string }) => {
      await withSystem(opts.config, false, async (system) =>
        console.log((await system.cancel(runId, { by: 'cli' })).status),
      );
    });

  program
    .command('resolve')
    .description('resolve an in-doubt tool call of a run that needs attention')
    .argument('<runId>', 'the run', nonEmpty('runId'))
    .requiredOption('--call <callId>', 'the in-doubt call')
    .option('--succeeded [json]', 'the call took effect (optional JSON result)')
    .option('--failed [message]', 'the call did not take effect and should not be retried')
    .option('--retry', 'the call did not take effect: run it again')
    .option('--by <principal>', 'who resolves', 'cli')
    .option(...CONFIG_FLAG)
    .action(
      async (
        runId: string,
        opts: {
          call: string;
          succeeded?: string | true;
          failed?: string | true;
          retry?: boolean;
          by: string;
          config?: string;
        },
      ) => {
        const chosen = [opts.succeeded !== undefined, opts.failed !== undefined, opts.retry === true].filter(
          Boolean,
        ).length;
        if (chosen !== 1)
          throw new InvalidArgumentError('give exactly one of --succeeded, --failed, --retry');
        await withSystem(opts.config, false, async (system) => {
          const by = opts.by;
          const view =
            opts.succeeded !== undefined
              ? await system.resolve(runId, {
                  callId: opts.call,
                  resolution: 'succeeded',
                  by,
                  result: opts.succeeded === true ? null : (JSON.parse(opts.succeeded) as unknown),
                })
              : opts.failed !== undefined
                ? await system.resolve(runId, {
                    callId: opts.call,
                    resolution: 'failed',
                    by,
                    ...(typeof opts.failed === 'string' ? { message: opts.failed } : {}),
                  })
                : await system.resolve(runId, { callId: opts.call, resolution: 'retry', by });
          console.log(view.status);
        });
      },
    );
}

/** `lint`, `eval`, `demo` and `version`. */
function registerToolCommands(program: Command): void {
  program
    .command('lint')
    .description("check the agents' shape: tool budgets, domains, duplicates, cycles, approvals")
    .option('--json', 'print the findings as JSON')
    .option(...CONFIG_FLAG)
    .action(async (opts: { json?: boolean; config?: string }) => {
      await withProject(opts.config, { workers: false }, async ({ agents }) => {
        const { formatLint, lintAgents, lintExitCode } = await import('../core/lint.ts');
        const findings = lintAgents(agents);
        console.log(opts.json ? JSON.stringify(findings) : formatLint(findings));
        process.exitCode = lintExitCode(findings);
      });
    });

  program
    .command('eval')
    .description(
      'evaluate a router on a routing suite: the configured one with --config, else the production defaults on the suite catalog',
    )
    .argument('<suite>', 'a switchboard-routing-suite/1 JSON file')
    .option('--k <list>', 'recall cut-offs, comma-separated', '1,3,5,10')
    .option('--json', 'print the result as JSON (docs/routing.md)')
    .option('--agent <name>', "tools suites with --config: score this agent's tool retriever settings")
    .option(...CONFIG_FLAG)
    .action(async (suite: string, opts: { k: string; json?: boolean; agent?: string; config?: string }) => {
      const { runEval } = await import('./eval.ts');
      const configured = opts.config ? await import('./app.ts').then((m) => m.cliConfig(opts.config)) : null;
      process.exitCode = await runEval(
        { suite, k: opts.k, json: opts.json ?? false, ...(opts.agent ? { agent: opts.agent } : {}) },
        (line) => console.log(line),
        configured,
      );
    });

  listenerFlags(
    program
      .command('demo')
      .description('the main job: seed the reference system and play a tour of realistic requests')
      .option('--reset', 'recreate the business database from its seed first')
      .option('--tour', 'play the tour (default)')
      .option('--exit', 'exit after the tour with a summary table')
      .option(...CONFIG_FLAG),
  ).action(async (opts: ListenerFlags & { reset?: boolean; exit?: boolean; config?: string }) => {
    const { runDemo } = await import('./demo.ts');
    process.exitCode = await runDemo({
      reset: opts.reset ?? false,
      exit: opts.exit ?? false,
      listen: opts,
      ...(opts.config ? { config: opts.config } : {}),
    });
  });

  program
    .command('version')
    .description('print the version')
    .action(() => {
      console.log(packageVersion());
    });
}

/**
 * A reader that closes early (`switchboard demo --tour --exit | head -1`) ends the command at once
 * and quietly, never with an unhandled EPIPE; any other stream error stays fatal.
 */
function endQuietlyWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  }
}

/**
 * Entry point of the command's process: one line on failure, a non-zero exit code, and an exit at
 * once — a command that failed part-way (a listener that could not bind after the workers started)
 * must not leave handles keeping the process alive. Its own `finally` blocks have run by then.
 */
export async function main(argv: string[]): Promise<void> {
  endQuietlyWhenOutputCloses();
  const code = await runCommand(argv);
  if (code !== 0) process.exit(code);
}

/** Parse and run one command; the exit code of a failure (0 when it succeeded). */
async function runCommand(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError && !(error instanceof InvalidArgumentError)) {
      // Commander printed its one line already; --help and --version end here with 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    const message =
      error instanceof SwitchboardError ||
      error instanceof InvalidArgumentError ||
      error instanceof SyntaxError
        ? error.message
        : error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
    console.error(`switchboard: ${message}`);
    // A configuration error or a bad flag is a usage error: exit 2, before anything started.
    return error instanceof ConfigError || error instanceof InvalidArgumentError ? 2 : 1;
  }
}

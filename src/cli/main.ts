/**
 * The `switchboard` command. Every subcommand validates its flags; unknown flags and bad values
 * exit non-zero with one line saying why.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { SwitchboardError } from '../core/errors.ts';
import type { JournalEvent } from '../core/events.ts';
import { lintAgents } from '../core/lint.ts';
import { RUN_STATUSES, type RunStatus } from '../core/run-state.ts';
import { newId, type System } from '../system.ts';
import { openApp } from './app.ts';
import { runEval } from './eval.ts';
import { formatLint, lintExitCode } from './lint.ts';
import { describeEvent, formatTrace } from './trace.ts';
import { runDemo } from './demo.ts';
import { registerOpsCommands } from './ops.ts';
import { registerServeCommands } from './serve.ts';
import { registerMemoryCommands } from './memory.ts';
import { registerChatCommand } from './chat.ts';
import { traceGraphCommand } from '../telemetry/commands.ts';
import { priceTable } from '../telemetry/cost.ts';

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

/** Run `fn` on the reference system; the system is stopped however `fn` ends. */
async function withSystem<T>(workers: boolean, fn: (system: System) => Promise<T>): Promise<T> {
  const app = openApp({ system: { workers } });
  await app.system.start();
  try {
    return await fn(app.system);
  } finally {
    await app.system.stop();
    app.business.close();
  }
}

async function traceWithChildren(system: System, runId: string, indent = ''): Promise<string[]> {
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

export function buildProgram(): Command {
  const program = new Command('switchboard')
    .description('Durable, governed, explainable multi-agent runtime')
    .showSuggestionAfterError()
    .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') });

  program
    .command('run')
    .description('submit a request, print progress while it works, then the result')
    .argument('<text>', 'the request', nonEmpty('text'))
    .option('--actor <id>', 'acting principal', nonEmpty('--actor'), 'cli')
    .option('--session <id>', 'session id (a new one by default)', nonEmpty('--session'))
    .option('--agent <name>', 'skip routing and use this agent', nonEmpty('--agent'))
    .option('--json', 'print the finished run as JSON')
    .action(
      async (text: string, opts: { actor: string; session?: string; agent?: string; json?: boolean }) => {
        await withSystem(true, async (system) => {
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
          for await (const e of system.events(runId)) {
            if (e.type === 'progress') say(`  … ${e.data.message}`);
            else if (
              e.type === 'route.decided' ||
              e.type === 'route.escalated' ||
              e.type === 'delegation.requested' ||
              e.type === 'delegation.completed' ||
              e.type === 'tool.failed' ||
              e.type === 'tool.denied'
            ) {
              say(`  · ${describeEvent(e).split('\n')[0]}`);
            } else if (e.type === 'run.needs_attention') {
              say(`  ! ${e.data.reason}`);
              break;
            }
          }
          const run = await system.get(runId);
          if (opts.json) process.stdout.write(`${JSON.stringify(run)}\n`);
          else {
            say(
              `${run.status}${run.agent ? ` (${run.agent})` : ''}: ${run.output ?? run.error?.message ?? run.escalation?.reason ?? run.attention?.reason ?? ''}`,
            );
          }
          process.exitCode = run.status === 'completed' || run.status === 'escalated' ? 0 : 1;
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
    .action(
      async (opts: {
        status?: RunStatus;
        session?: string;
        actor?: string;
        limit: number;
        json?: boolean;
      }) => {
        await withSystem(false, async (system) => {
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

  program
    .command('trace')
    .description("a readable timeline of a run's journal, delegated runs included")
    .argument('<runId>', 'the run', nonEmpty('runId'))
    .option('--json', 'print the journal events as JSON')
    .option('--graph <format>', 'print the orchestration graph instead: mermaid or json', (v: string) => {
      if (v !== 'mermaid' && v !== 'json') throw new InvalidArgumentError('must be mermaid or json');
      return v;
    })
    .action(async (runId: string, opts: { json?: boolean; graph?: 'mermaid' | 'json' }) => {
      await withSystem(false, async (system) => {
        if (opts.graph) {
          console.log(
            await traceGraphCommand(system.store, { runId, graph: opts.graph, prices: priceTable() }),
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
    .action(async (runId: string) => {
      await withSystem(false, async (system) =>
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
    .action(
      async (
        runId: string,
        opts: {
          call: string;
          succeeded?: string | true;
          failed?: string | true;
          retry?: boolean;
          by: string;
        },
      ) => {
        const chosen = [opts.succeeded !== undefined, opts.failed !== undefined, opts.retry === true].filter(
          Boolean,
        ).length;
        if (chosen !== 1)
          throw new InvalidArgumentError('give exactly one of --succeeded, --failed, --retry');
        await withSystem(false, async (system) => {
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

  program
    .command('lint')
    .description("check the agents' shape: tool budgets, domains, duplicates, cycles, approvals")
    .action(() => {
      const app = openApp();
      const findings = lintAgents(app.agents);
      app.business.close();
      console.log(formatLint(findings));
      process.exitCode = lintExitCode(findings);
    });

  program
    .command('eval')
    .description('evaluate the production router on a routing suite')
    .argument('<suite>', 'a switchboard-routing-suite/1 JSON file')
    .allowUnknownOption(true)
    .helpOption(false)
    .action(async () => {
      const args = process.argv.slice(process.argv.indexOf('eval') + 1);
      process.exitCode = await runEval(args, (line) => console.log(line));
    });

  program
    .command('demo')
    .description('the main job: seed the reference system and play a tour of realistic requests')
    .option('--reset', 'recreate the business database from its seed first')
    .option('--tour', 'play the tour (default)')
    .option('--exit', 'exit after the tour with a summary table')
    .option('--port <n>', 'public listener port (default 7070, $SWITCHBOARD_PORT)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65_535)
        throw new InvalidArgumentError('must be a port number (0-65535)');
      return n;
    })
    .action(async (opts: { reset?: boolean; exit?: boolean; port?: number }) => {
      process.exitCode = await runDemo({
        reset: opts.reset ?? false,
        exit: opts.exit ?? false,
        ...(opts.port !== undefined ? { port: opts.port } : {}),
      });
    });

  program
    .command('version')
    .description('print the version')
    .action(async () => {
      const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      console.log(pkg.version);
    });

  registerOpsCommands(program);
  registerServeCommands(program);
  registerMemoryCommands(program);
  registerChatCommand(program);
  return program;
}

/** Entry point: one line on failure, a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    const message =
      error instanceof SwitchboardError ||
      error instanceof InvalidArgumentError ||
      error instanceof SyntaxError
        ? error.message
        : error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
    console.error(`switchboard: ${message}`);
    process.exitCode = 1;
  }
}

/**
 * Memory and provider commands: `memory`, `forget`, `export-actor`, `doctor`, `mcp-serve`.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { CONFIG_FLAG, cliConfig, withProject } from './app.ts';

const nonEmpty =
  (name: string) =>
  (value: string): string => {
    if (!value.trim()) throw new InvalidArgumentError(`${name} must not be empty`);
    return value;
  };

export function registerMemoryCommands(program: Command): void {
  program
    .command('memory')
    .description('what is remembered about an actor: the turns of its sessions and its long-term facts')
    .argument('<actorId>', 'the actor', nonEmpty('actorId'))
    .option('--session <id>', 'one session only')
    .option('--json', 'print JSON')
    .option(...CONFIG_FLAG)
    .action(async (actorId: string, opts: { session?: string; json?: boolean; config?: string }) => {
      await withProject(opts.config, { workers: false }, async (app) => {
        const items = await app.system.memory.list({
          actorId,
          ...(opts.session ? { sessionId: opts.session } : {}),
        });
        if (opts.json) return void console.log(JSON.stringify(items));
        if (items.length === 0) return void console.log(`nothing remembered about ${actorId}`);
        for (const i of items) {
          if (i.kind === 'turn') console.log(`[${i.sessionId}] ${i.role}: ${i.text}`);
          else console.log(`fact ${i.namespace}/${i.key} = ${i.value}${i.trusted ? '' : ' (untrusted)'}`);
        }
      });
    });

  program
    .command('forget')
    .description(
      "erase an actor's memory and redact its content from every journal (structure and hashes kept)",
    )
    .argument('<actorId>', 'the actor', nonEmpty('actorId'))
    .option('--session <id>', 'one session only')
    .option('--by <principal>', 'who asks (journaled)', 'cli')
    .option('--json', 'print the report as JSON')
    .option(...CONFIG_FLAG)
    .action(
      async (actorId: string, opts: { session?: string; by: string; json?: boolean; config?: string }) => {
        await withProject(opts.config, { workers: false }, async (app) => {
          const r = await app.system.memory.forgetActor(actorId, {
            by: opts.by,
            ...(opts.session ? { sessionId: opts.session } : {}),
          });
          if (opts.json) console.log(JSON.stringify(r));
          else
            console.log(
              `forgot ${actorId}: ${r.runs} runs redacted (${r.events} events), ${r.approvals} approvals, ${r.facts} facts deleted`,
            );
        });
      },
    );

  program
    .command('export-actor')
    .description('everything stored about an actor, as JSON (runs with their journals, facts)')
    .argument('<actorId>', 'the actor', nonEmpty('actorId'))
    .option(...CONFIG_FLAG)
    .action(async (actorId: string, opts: { config?: string }) => {
      await withProject(opts.config, { workers: false }, async (app) => {
        console.log(JSON.stringify(await app.system.memory.export(actorId)));
      });
    });

  program
    .command('doctor')
    .description('which model provider and MCP servers are configured, and whether each answers')
    .option('--json', 'print JSON')
    .option('--timeout <ms>', 'per check', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
      return n;
    })
    .option(...CONFIG_FLAG)
    .action(async (opts: { json?: boolean; timeout?: number; config?: string }) => {
      const { doctorCommand } = await import('../mcp/doctor.ts');
      const { processEnv } = await import('../config.ts');
      const config = await cliConfig(opts.config);
      const { text, exitCode } = await doctorCommand(
        {
          ...(opts.json ? { json: true } : {}),
          ...(opts.timeout ? { timeoutMs: opts.timeout } : {}),
        },
        {
          ...processEnv(),
          SWITCHBOARD_MODEL:
            typeof config.model === 'string' && config.model !== 'offline' ? config.model : undefined,
        },
        config.mcp,
      );
      console.log(text);
      process.exitCode = exitCode;
    });

  program
    .command('mcp-serve')
    .description("serve an agent's governed tools over MCP (stdio)")
    .requiredOption('--agent <name>', 'the agent whose tools to serve')
    .option(...CONFIG_FLAG)
    .action(async (opts: { agent: string; config?: string }) => {
      const { mcpServeCommand } = await import('../mcp/serve.ts');
      await withProject(opts.config, { workers: false, onError: (e) => console.error(String(e)) }, (app) =>
        mcpServeCommand(
          { agent: opts.agent },
          { agents: app.agents, policies: app.config.policies, log: (line) => console.error(line) },
        ),
      );
    });
}

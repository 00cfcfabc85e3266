/**
 * Memory and provider commands: `memory`, `forget`, `export-actor`, `doctor`, `mcp-serve`.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { doctorCommand } from '../mcp/doctor.ts';
import { mcpServeCommand } from '../mcp/serve.ts';
import { openApp } from './app.ts';

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
    .action(async (actorId: string, opts: { session?: string; json?: boolean }) => {
      const app = openApp({ system: { workers: false } });
      try {
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
      } finally {
        await app.system.stop();
        app.business.close();
      }
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
    .action(async (actorId: string, opts: { session?: string; by: string; json?: boolean }) => {
      const app = openApp({ system: { workers: false } });
      try {
        const r = await app.system.memory.forgetActor(actorId, {
          by: opts.by,
          ...(opts.session ? { sessionId: opts.session } : {}),
        });
        if (opts.json) console.log(JSON.stringify(r));
        else
          console.log(
            `forgot ${actorId}: ${r.runs} runs redacted (${r.events} events), ${r.approvals} approvals, ${r.facts} facts deleted`,
          );
      } finally {
        await app.system.stop();
        app.business.close();
      }
    });

  program
    .command('export-actor')
    .description('everything stored about an actor, as JSON (runs with their journals, facts)')
    .argument('<actorId>', 'the actor', nonEmpty('actorId'))
    .action(async (actorId: string) => {
      const app = openApp({ system: { workers: false } });
      try {
        console.log(JSON.stringify(await app.system.memory.export(actorId)));
      } finally {
        await app.system.stop();
        app.business.close();
      }
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
    .action(async (opts: { json?: boolean; timeout?: number }) => {
      const { text, exitCode } = await doctorCommand({
        ...(opts.json ? { json: true } : {}),
        ...(opts.timeout ? { timeoutMs: opts.timeout } : {}),
      });
      console.log(text);
      process.exitCode = exitCode;
    });

  program
    .command('mcp-serve')
    .description("serve an agent's governed tools over MCP (stdio)")
    .requiredOption('--agent <name>', 'the agent whose tools to serve')
    .action(async (opts: { agent: string }) => {
      const app = openApp({ system: { workers: false, onError: (e) => console.error(String(e)) } });
      await mcpServeCommand(
        { agent: opts.agent },
        { agents: app.agents, log: (line) => console.error(line) },
      );
    });
}

/**
 * Process commands: `serve` (gateway + workers), `keys`, and the PostgreSQL roles `migrate`,
 * `gateway` (no workers) and `worker`.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { keysCreate, keysList, keysRevoke, openKeyStore, listenerOptions, serve } from '../gateway/cli.ts';
import { createGateway } from '../gateway/server.ts';
import {
  migrateCommand,
  openPostgresStore,
  roleOptions,
  runUntilSignal,
  withConcurrency,
} from '../store/postgres/cli.ts';
import { attachTelemetry, type Telemetry } from '../telemetry/index.ts';
import type { System } from '../system.ts';
import type { AgentDefinition } from '../core/agent.ts';
import { openApp } from './app.ts';

const portNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/** Telemetry for a serving process: traces (when OTEL_* say so), metrics for the private listener. */
export async function telemetryFor(system: System): Promise<Telemetry> {
  return attachTelemetry({ store: system.store, agents: [...system.engine.agents.keys()], logger: false });
}

/** The private listener's routes: Prometheus `/metrics`. */
export function adminRoutes(telemetry: Telemetry): Record<string, (req: Request) => Promise<Response>> {
  return {
    '/metrics': async () => {
      if (!telemetry.metrics) return new Response('metrics are off\n', { status: 404 });
      const { contentType, body } = await telemetry.metrics.render();
      return new Response(body, { headers: { 'content-type': contentType } });
    },
  };
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('the reference system behind the HTTP/WebSocket gateway, with workers, until SIGINT/SIGTERM')
    .option('--port <n>', 'public listener port (default 7070, $SWITCHBOARD_PORT)', portNumber)
    .option(
      '--admin-port <n>',
      'private listener port for /metrics and admin (default 7071, $SWITCHBOARD_ADMIN_PORT)',
      portNumber,
    )
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .action(async (opts: { port?: number; adminPort?: number; host?: string }) => {
      let telemetry: Telemetry | null = null;
      const serving = await serve(
        {
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.adminPort !== undefined ? { adminPort: opts.adminPort } : {}),
          ...(opts.host ? { host: opts.host } : {}),
        },
        console.log,
        {
          adminRoutes: {
            '/metrics': async (req) =>
              telemetry
                ? (adminRoutes(telemetry)['/metrics']?.(req) ?? new Response('', { status: 404 }))
                : new Response('starting\n', { status: 503 }),
          },
        },
      );
      telemetry = await telemetryFor(serving.system);
    });

  const keys = program.command('keys').description('API keys: create (shown once), revoke, list');
  keys
    .command('create')
    .description('create an API key; its name is the actor it acts as')
    .requiredOption('--name <name>', 'the principal (actor id)')
    .requiredOption('--role <role>', 'user, approver, operator or admin')
    .option('--plan <plan>', 'usage plan')
    .option('--json', 'print { "id", "key", "role" }')
    .action(async (opts: { name: string; role: string; plan?: string; json?: boolean }) => {
      await keysCreate({
        name: opts.name,
        role: opts.role,
        ...(opts.plan ? { plan: opts.plan } : {}),
        ...(opts.json ? { json: true } : {}),
      });
    });
  keys
    .command('revoke')
    .description('revoke a key (open connections close within a second)')
    .argument('<key>', 'key id or name')
    .option('--json', 'print JSON')
    .action(async (key: string, opts: { json?: boolean }) => {
      await keysRevoke({ key, ...(opts.json ? { json: true } : {}) });
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--all', 'include revoked keys')
    .option('--json', 'print JSON')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      await keysList({ ...(opts.all ? { all: true } : {}), ...(opts.json ? { json: true } : {}) });
    });

  program
    .command('migrate')
    .description('apply pending PostgreSQL migrations ($SWITCHBOARD_DATABASE_URL) and exit')
    .action(async () => {
      await migrateCommand();
    });

  program
    .command('gateway')
    .description('a gateway process on PostgreSQL: HTTP/WebSocket, no workers')
    .option('--port <n>', 'public listener port', portNumber)
    .option('--admin-port <n>', 'private listener port', portNumber)
    .option('--host <host>', 'interface to listen on')
    .action(async (opts: { port?: number; adminPort?: number; host?: string }) => {
      const store = openPostgresStore();
      const app = openApp({ system: roleOptions('gateway', { store }) });
      const keyStore = openKeyStore();
      const telemetry = await telemetryFor(app.system);
      const gateway = createGateway({
        system: app.system,
        keys: keyStore,
        ...listenerOptions({
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.adminPort !== undefined ? { adminPort: opts.adminPort } : {}),
          ...(opts.host ? { host: opts.host } : {}),
        }),
        adminRoutes: adminRoutes(telemetry),
      });
      const { url } = await gateway.start();
      console.log(`switchboard gateway (no workers) on ${url}, store postgres schema ${store.schema}`);
      await runUntilSignal(app.system, store).finally(async () => {
        await gateway.stop();
        await telemetry.stop();
        await keyStore.close();
        app.business.close();
      });
    });

  program
    .command('worker')
    .description('a worker process on PostgreSQL: advances runs of the named agents (all by default)')
    .option('--agents <names>', 'comma-separated agent names', (v: string) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .option('--concurrency <n>', 'per-agent concurrency in this process', positiveInt)
    .action(async (opts: { agents?: string[]; concurrency?: number }) => {
      const store = openPostgresStore();
      const app = openApp({
        system: roleOptions('worker', { store, ...(opts.agents ? { agents: opts.agents } : {}) }),
        ...(opts.concurrency !== undefined
          ? { transformAgents: (agents: AgentDefinition[]) => withConcurrency(agents, opts.concurrency) }
          : {}),
      });
      const unknown = (opts.agents ?? []).filter((a) => !app.agents.some((d) => d.name === a));
      if (unknown.length) throw new InvalidArgumentError(`--agents: unknown agent(s) ${unknown.join(', ')}`);
      console.log(
        `switchboard worker for ${(opts.agents ?? app.agents.map((a) => a.name)).join(', ')} on postgres schema ${store.schema}`,
      );
      await runUntilSignal(app.system, store).finally(() => app.business.close());
    });
}

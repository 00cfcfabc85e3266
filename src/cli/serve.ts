/**
 * Process commands: `serve` (gateway + workers), `keys`, and the PostgreSQL roles `migrate`,
 * `gateway` (no workers) and `worker`. Each acts on the configured project.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { CompiledConfig } from '../config.ts';
import type { KeyStore } from '../gateway/keys.ts';
import type { Project } from '../project.ts';
import type { Telemetry } from '../telemetry/index.ts';
import { CONFIG_FLAG, cliConfig, openCli } from './app.ts';
import { startIdleCompaction } from './idle-gc.ts';
import { untilSignal } from './signals.ts';
import { Option } from 'commander';

/** What `switchboard dev` tells the process it restarted: which generation, and why. */
export interface DevReload {
  generation: number;
  reason: string;
  at: number;
}

/** The hidden `serve --dev-reload <generation:reason>` flag `dev` passes to its child. */
export const devReloadOption = (): Option =>
  new Option('--dev-reload <generation:reason>', 'set by switchboard dev').hideHelp();

const devReloadOf = (raw: string): DevReload => {
  const colon = raw.indexOf(':');
  const generation = Number(raw.slice(0, colon < 0 ? undefined : colon));
  if (!Number.isInteger(generation) || generation < 1)
    throw new InvalidArgumentError('--dev-reload: bad generation');
  return { generation, reason: colon < 0 ? 'started' : raw.slice(colon + 1), at: Date.now() };
};

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

export interface ListenerFlags {
  port?: number;
  adminPort?: number;
  host?: string;
}

/** `--port`, `--admin-port` and `--host` (over gateway.port, gateway.adminPort, gateway.host). */
export function listenerFlags(cmd: Command): Command {
  return cmd
    .option('--port <n>', 'public listener port (gateway.port, default 7070)', portNumber)
    .option(
      '--admin-port <n>',
      'private listener for /metrics and admin (gateway.adminPort, default 7071)',
      portNumber,
    )
    .option('--host <host>', 'interface to listen on (gateway.host, default 127.0.0.1)');
}

const flagsOf = (opts: ListenerFlags): ListenerFlags => ({
  ...(opts.port !== undefined ? { port: opts.port } : {}),
  ...(opts.adminPort !== undefined ? { adminPort: opts.adminPort } : {}),
  ...(opts.host ? { host: opts.host } : {}),
});

/** Telemetry of a serving process, from the configuration: traces, metrics for the private listener. */
export async function telemetryFor(project: Project): Promise<Telemetry> {
  const { attachTelemetry } = await import('../telemetry/index.ts');
  const { priceTable } = await import('../telemetry/cost.ts');
  const { batchEnv } = await import('../telemetry/otel.ts');
  const { versionKey } = await import('../runtime/agents.ts');
  const t = project.config.telemetry;
  // The telemetry modules speak the OTEL_* vocabulary; the configuration is translated into it.
  const env: Record<string, string> = {
    OTEL_SERVICE_NAME: t.serviceName,
    ...(t.otlp.endpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: t.otlp.endpoint } : {}),
    ...(t.otlp.tracesEndpoint ? { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: t.otlp.tracesEndpoint } : {}),
    ...batchEnv(t.otlp.batch),
    ...(t.traces ? {} : { OTEL_SDK_DISABLED: 'true' }),
  };
  return attachTelemetry({
    store: project.system.store,
    // One queue per labeled version (`agent:name@label`), one per unlabeled name: each is measured.
    agents: [...new Set(project.agents.map((a) => versionKey(a.name, a.version)))],
    // Labeled versions with traffic no live worker serves: the `version_not_served` gauge.
    unserved: () => project.system.deployments.unserved(),
    // Journal events as JSON lines on stdout, when a level is configured (silent by default).
    ...(t.logLevel === 'silent' ? { logger: false as const } : { logLevel: t.logLevel }),
    metrics: t.metrics,
    captureContent: t.captureContent,
    prices: priceTable(t.prices, {}),
    env,
    secrets: project.secrets,
  });
}

/** The private listener's routes: Prometheus `/metrics`. */
export function adminRoutes(
  telemetry: () => Telemetry | null,
): Record<string, (req: Request) => Promise<Response>> {
  return {
    '/metrics': async () => {
      const t = telemetry();
      if (!t) return new Response('starting\n', { status: 503 });
      if (!t.metrics) return new Response('metrics are off\n', { status: 404 });
      const { contentType, body } = await t.metrics.render();
      return new Response(body, { headers: { 'content-type': contentType } });
    },
  };
}

/**
 * Serve a project until SIGINT/SIGTERM: workers (unless `workers: false`), gateway, telemetry.
 * Returns what stops it (used by `dev` to restart on a change).
 */
export async function serveProject(
  project: Project,
  flags: ListenerFlags,
  options: { workers: boolean; label?: string; reload?: DevReload },
): Promise<{ stop(): Promise<void> }> {
  const { serve } = await import('../gateway/cli.ts');
  const ready = (project.store as { ready?: () => Promise<unknown> }).ready;
  if (ready) await ready.call(project.store);
  if (options.workers) await project.system.start();
  let telemetry: Telemetry | null = null;
  const { packageInfo } = await import('../package-info.ts');
  const serving = await serve(project, flags, console.log, {
    adminRoutes: adminRoutes(() => telemetry),
    version: packageInfo().version,
    instance: {
      ...(project.config.source ? { source: project.config.source } : {}),
      ...(options.reload ? { reload: options.reload } : {}),
    },
  });
  telemetry = await telemetryFor(project);
  const stopCompaction = startIdleCompaction();
  const agents = project.agents.map((a) => a.name).join(', ');
  console.log(
    `${options.label ?? 'serving'} ${project.config.source ?? 'configuration'}: ${agents} on ${project.modelLabel}, store ${project.storeKind === 'postgres' ? `postgres schema ${project.config.store.schema}` : project.config.store.dataDir}`,
  );
  return {
    async stop() {
      stopCompaction();
      await serving.stop();
      await telemetry?.stop();
      await project.close();
    },
  };
}

export function registerServeCommands(program: Command): void {
  listenerFlags(
    program
      .command('serve')
      .description(
        'the configured system behind the HTTP/WebSocket gateway, with workers, until SIGINT/SIGTERM',
      )
      .option(...CONFIG_FLAG)
      .addOption(devReloadOption()),
  ).action(async (opts: ListenerFlags & { config?: string; devReload?: string }) => {
    const project = await openCli(opts.config, { role: 'serve' });
    const reload = opts.devReload ? devReloadOf(opts.devReload) : undefined;
    const serving = await serveProject(project, flagsOf(opts), {
      workers: true,
      ...(reload
        ? { reload, label: reload.generation > 1 ? `[dev] reloaded (${reload.reason}):` : '[dev] serving' }
        : {}),
    });
    await untilSignal();
    await serving.stop();
  });

  const keys = program.command('keys').description('API keys: create (shown once), revoke, list');
  keys
    .command('create')
    .description('create an API key; its name is the actor it acts as')
    .requiredOption('--name <name>', 'the principal (actor id)')
    .requiredOption('--role <role>', 'user, approver, operator or admin', (v: string) => {
      if (!['user', 'approver', 'operator', 'admin'].includes(v))
        throw new InvalidArgumentError('must be user, approver, operator or admin');
      return v;
    })
    .option('--plan <plan>', 'usage plan (default, free, pro, unlimited or one of gateway.plans)')
    .option('--json', 'print { "id", "key", "role" }')
    .option(...CONFIG_FLAG)
    .action(async (opts: { name: string; role: string; plan?: string; json?: boolean; config?: string }) => {
      await withKeys(opts.config, async (store, config) => {
        const { keysCreate } = await import('../gateway/cli.ts');
        const { DEFAULT_PLANS } = await import('../gateway/plans.ts');
        await keysCreate(
          {
            name: opts.name,
            role: opts.role,
            ...(opts.plan ? { plan: opts.plan } : {}),
            ...(opts.json ? { json: true } : {}),
          },
          console.log,
          store,
          { ...DEFAULT_PLANS, ...config.gateway.plans },
        );
      });
    });
  keys
    .command('revoke')
    .description('revoke a key (open connections close within a second, on every replica)')
    .argument('<key>', 'key id or name')
    .option('--json', 'print JSON')
    .option(...CONFIG_FLAG)
    .action(async (key: string, opts: { json?: boolean; config?: string }) => {
      await withKeys(opts.config, async (store) => {
        const { keysRevoke } = await import('../gateway/cli.ts');
        await keysRevoke({ key, ...(opts.json ? { json: true } : {}) }, console.log, store);
      });
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--all', 'include revoked keys')
    .option('--json', 'print JSON')
    .option(...CONFIG_FLAG)
    .action(async (opts: { all?: boolean; json?: boolean; config?: string }) => {
      await withKeys(opts.config, async (store) => {
        const { keysList } = await import('../gateway/cli.ts');
        await keysList(
          { ...(opts.all ? { all: true } : {}), ...(opts.json ? { json: true } : {}) },
          console.log,
          store,
        );
      });
    });

  program
    .command('migrate')
    .description('apply pending PostgreSQL migrations (store.url) and exit')
    .option(...CONFIG_FLAG)
    .action(async (opts: { config?: string }) => {
      const { migrateCommand } = await import('../store/postgres/cli.ts');
      await migrateCommand(await cliConfig(opts.config), console.log);
    });

  listenerFlags(
    program
      .command('gateway')
      .description('a gateway process on PostgreSQL: HTTP/WebSocket, no workers')
      .option(...CONFIG_FLAG),
  ).action(async (opts: ListenerFlags & { config?: string }) => {
    const { postgresOf } = await import('../store/postgres/cli.ts');
    postgresOf(await cliConfig(opts.config), 'gateway');
    const project = await openCli(opts.config, { role: 'gateway', workers: false });
    const serving = await serveProject(project, flagsOf(opts), {
      workers: false,
      label: 'gateway (no workers) for',
    });
    await untilSignal();
    await serving.stop();
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
    .option(...CONFIG_FLAG)
    .action(async (opts: { agents?: string[]; concurrency?: number; config?: string }) => {
      const { postgresOf } = await import('../store/postgres/cli.ts');
      const config = await cliConfig(opts.config);
      const pg = postgresOf(config, 'worker');
      const project = await openCli(opts.config, {
        role: 'worker',
        ...(opts.agents ? { workers: { agents: opts.agents } } : {}),
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      });
      try {
        const unknown = (opts.agents ?? []).filter((a) => !project.agents.some((d) => d.name === a));
        if (unknown.length)
          throw new InvalidArgumentError(`--agents: unknown agent(s) ${unknown.join(', ')}`);
        const ready = (project.store as { ready?: () => Promise<unknown> }).ready;
        if (ready) await ready.call(project.store);
        await project.system.start();
        const stopCompaction = startIdleCompaction();
        console.log(
          `switchboard worker for ${(opts.agents ?? project.agents.map((a) => a.name)).join(', ')} on postgres schema ${pg.schema}`,
        );
        await untilSignal();
        stopCompaction();
      } finally {
        await project.close();
      }
    });
}

/** The configured key store, without opening the system (no agents, model or journal). */
async function withKeys(
  flag: string | undefined,
  fn: (store: KeyStore, config: CompiledConfig) => Promise<void>,
): Promise<void> {
  const config = await cliConfig(flag);
  const { openKeyStore } = await import('../project.ts');
  const store = await openKeyStore(config);
  try {
    await fn(store, config);
  } finally {
    await store.close();
  }
}

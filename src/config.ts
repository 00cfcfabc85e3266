/**
 * One configuration: `defineConfig({...})` in a project's `switchboard.config.ts`, validated by one
 * zod schema. Every default lives here ({@link DEFAULTS}); environment variables map onto documented
 * keys ({@link ENV_KEYS}, docs/config.md) and override the file. This is the only module that reads
 * `process.env`: everything else receives its settings.
 *
 * A wrong key is a one-line {@link ConfigError} naming its path and the nearest valid key, before
 * anything starts or any file is written.
 */
import { resolve } from 'node:path';
import { DEFAULT_BUDGET } from './core/budget.ts';
import { ConfigError } from './core/errors.ts';
import { parsePolicies } from './core/policy.ts';
import { parseMcpConfig } from './mcp/config.ts';
import { compileJwt, compileWebhooks, JWT_DEFAULTS, WEBHOOK_DEFAULTS } from './gateway/inbound-config.ts';
import { parseModelSpec } from './models/spec.ts';
import { checkScheduleAgents, compileSchedules, SCHEDULE_DEFAULTS } from './core/schedule.ts';
import { configSchemaOf } from './config-schema.ts';
import { DEPLOYMENT_DEFAULTS, resolveDeploymentOptions } from './core/deployment.ts';
import { checkAgents, configErrorOf, envOverrides, setPath } from './config-keys.ts';

export { checkAgents, nearest } from './config-keys.ts';

export type { Env } from './config-keys.ts';
export type {
  AgentsFactory,
  CompiledConfig,
  ConfigContext,
  OtlpBatchConfig,
  PlanConfig,
  SwitchboardConfig,
} from './config-types.ts';
import type { CompiledConfig, PlanConfig, SwitchboardConfig } from './config-types.ts';
import type { Env } from './config-keys.ts';
import { BATCH_BODY_BYTES } from './core/limits.ts';

/** Every default, in one place. */
export const DEFAULTS = {
  model: 'offline',
  modelSettings: { timeoutMs: 60_000, maxRetries: 3, maxOutputTokens: 4096 },
  store: { dataDir: '.switchboard', schema: 'switchboard', poolSize: 10 },
  gateway: {
    host: '127.0.0.1',
    port: 7070,
    adminPort: 7071,
    auth: {
      cacheMs: 400,
      revocationSweepMs: 250,
      maxFailures: 20,
      failureWindowMs: 60_000,
      /** `gateway.auth.jwt` (when configured): claims, clock tolerance (s), JWKS refresh. */
      jwt: JWT_DEFAULTS,
    },
    heartbeatMs: 5_000,
    console: true,
  },
  memory: { enabled: true, k: 5, retentionMs: 30 * 24 * 3600_000, maxFacts: 5 },
  budgets: DEFAULT_BUDGET,
  limits: {
    leaseMs: 30_000,
    pollMs: 500,
    sweepIntervalMs: 30_000,
    errorRetryMs: 1_000,
    poisonAttempts: 5,
    dedupWindowMs: 5 * 60_000,
    approvalTtlMs: 72 * 3600_000,
    approvalExpiry: 'rejected' as 'approved' | 'rejected',
    breaker: { threshold: 5, cooldownMs: 30_000 },
    routerConcurrency: 4,
  },
  /** Each of `webhooks: [...]`: event id header and signature tolerance (s). */
  webhook: WEBHOOK_DEFAULTS,
  /** Each of `schedules: [...]`: time zone, overlap, catch-up window, jitter. */
  schedule: SCHEDULE_DEFAULTS,
  batch: { share: 0.5, concurrency: 8, maxBodyBytes: BATCH_BODY_BYTES },
  telemetry: {
    serviceName: 'switchboard',
    traces: true,
    metrics: true,
    logLevel: 'silent',
    captureContent: false,
  },
  /** Deployments: driver tick and lease, minimum runs before judging, alarms, validation (core/deployment.ts). */
  deployments: DEPLOYMENT_DEFAULTS,
} as const;

/** Environment variable → configuration key it overrides. docs/config.md has the same table. */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  SWITCHBOARD_MODEL: 'model',
  SWITCHBOARD_MODEL_TIMEOUT_MS: 'modelSettings.timeoutMs',
  SWITCHBOARD_MODEL_MAX_RETRIES: 'modelSettings.maxRetries',
  SWITCHBOARD_MODEL_RPM: 'modelSettings.requestsPerMinute',
  SWITCHBOARD_MODEL_MAX_OUTPUT_TOKENS: 'modelSettings.maxOutputTokens',
  SWITCHBOARD_MODEL_CONTEXT_TOKENS: 'modelSettings.contextTokens',
  SWITCHBOARD_DATA_DIR: 'store.dataDir',
  SWITCHBOARD_DATABASE_URL: 'store.url',
  SWITCHBOARD_DATABASE_SCHEMA: 'store.schema',
  SWITCHBOARD_HOST: 'gateway.host',
  SWITCHBOARD_PORT: 'gateway.port',
  SWITCHBOARD_ADMIN_PORT: 'gateway.adminPort',
  SWITCHBOARD_CORS_ORIGINS: 'gateway.cors.origins',
  SWITCHBOARD_LOG_LEVEL: 'telemetry.logLevel',
  SWITCHBOARD_PRICES: 'telemetry.prices',
  OTEL_SERVICE_NAME: 'telemetry.serviceName',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'telemetry.otlp.endpoint',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'telemetry.otlp.tracesEndpoint',
  OTEL_BSP_SCHEDULE_DELAY: 'telemetry.otlp.batch.scheduleDelayMs',
  OTEL_BSP_EXPORT_TIMEOUT: 'telemetry.otlp.batch.exportTimeoutMs',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'telemetry.otlp.batch.maxExportBatchSize',
  OTEL_BSP_MAX_QUEUE_SIZE: 'telemetry.otlp.batch.maxQueueSize',
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'telemetry.captureContent',
  SWITCHBOARD_MCP_CONFIG: 'mcp',
  SWITCHBOARD_FAULTS: 'faults',
  SWITCHBOARD_AUDIT_KEY: 'audit.key',
  SWITCHBOARD_AUDIT_PREVIOUS_KEYS: 'audit.previousKeys',
  SWITCHBOARD_VERSION_SOURCE: 'deployments.source',
};

/** The process environment: read here and nowhere else. */
export const processEnv = (): Env => process.env;

// Compiling

export interface CompileOptions {
  /** Variables that override the file (default: none; the CLI passes the process environment). */
  env?: Env;
  /** Named in errors: ` (in switchboard.config.ts)`. */
  source?: string;
  /** Resolve a relative `store.dataDir` of the file against this directory (the config file's; default: the current directory). */
  cwd?: string;
  /** Read an MCP config file (when `mcp` is a path). */
  readFile?: (path: string) => string;
}

/**
 * Define a project's configuration (types and editor completion; validated when loaded).
 * @example
 * export default defineConfig({ agents: [support], model: 'openai:gpt-4o-mini', store: { dataDir: '.data' } });
 */
export function defineConfig(config: SwitchboardConfig): SwitchboardConfig {
  return config;
}

const planOf = (p: PlanConfig) => ({
  rate: p.rate ?? (p.requestsPerMinute !== undefined ? p.requestsPerMinute / 60 : 20),
  burst: p.burst ?? p.requestsPerMinute ?? 40,
  dailyQuota: p.dailyQuota === undefined ? 50_000 : p.dailyQuota,
  maxConnections: p.maxConnections ?? 20,
});

/**
 * Validate a configuration and fill in every default; environment variables in `options.env`
 * override the file. Throws {@link ConfigError} naming the first wrong key.
 */
export function compileConfig(input: unknown, options: CompileOptions = {}): CompiledConfig {
  if ((input as CompiledConfig | undefined)?.compiled === true) return input as CompiledConfig;
  const where = options.source ? ` (in ${options.source})` : '';
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new ConfigError('config', `must be an object from defineConfig({...})${where}`);
  const { values, sources } = envOverrides(options.env ?? {}, ENV_KEYS);
  const merged: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [key, value] of Object.entries(values)) setPath(merged, key, value);
  const configSchema = configSchemaOf();
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const error = configErrorOf(parsed.error, where, configSchema);
    const variable = sources[error.key];
    if (variable) throw new ConfigError(variable, `${error.message.slice(error.key.length + 2)}`);
    throw error;
  }
  const c = parsed.data as SwitchboardConfig;
  const checkModel = (model: unknown, key: string): void => {
    if (typeof model !== 'string' || model === 'offline') return;
    try {
      parseModelSpec(model, sources[key] ?? key);
    } catch (error) {
      if (error instanceof ConfigError)
        throw new ConfigError(error.key, error.message.slice(error.key.length + 2) + where);
      throw error;
    }
  };
  checkModel(c.model, 'model');
  const policies = (() => {
    try {
      return parsePolicies(c.policies ?? []);
    } catch (error) {
      if (error instanceof ConfigError)
        throw new ConfigError(error.key, error.message.slice(error.key.length + 2) + where);
      throw error;
    }
  })();
  const mcp =
    c.mcp === undefined
      ? undefined
      : typeof c.mcp === 'string'
        ? parseMcpConfig(readJson(c.mcp, sources.mcp ?? 'mcp', options.readFile), sources.mcp ?? 'mcp')
        : parseMcpConfig(c.mcp, 'mcp');
  const memory =
    c.memory === false ? { ...DEFAULTS.memory, enabled: false } : { ...DEFAULTS.memory, ...c.memory };
  const parsedJwt = parsed.data.gateway?.auth?.jwt;
  const plans: CompiledConfig['gateway']['plans'] = {};
  for (const [name, p] of Object.entries(c.gateway?.plans ?? {})) plans[name] = planOf(p);
  const compiled: CompiledConfig = {
    compiled: true,
    source: options.source ?? null,
    agents: c.agents,
    ...(c.defaultAgent !== undefined ? { defaultAgent: c.defaultAgent } : {}),
    policies,
    model: c.model ?? DEFAULTS.model,
    modelSettings: { ...DEFAULTS.modelSettings, ...c.modelSettings },
    store: {
      // A path from the environment is relative to where the command runs; one in the file, to the file.
      dataDir: resolve(
        sources['store.dataDir'] ? process.cwd() : (options.cwd ?? process.cwd()),
        c.store?.dataDir ?? DEFAULTS.store.dataDir,
      ),
      ...(c.store?.url ? { url: c.store.url } : {}),
      schema: c.store?.schema ?? DEFAULTS.store.schema,
      poolSize: c.store?.poolSize ?? DEFAULTS.store.poolSize,
    },
    gateway: {
      host: c.gateway?.host ?? DEFAULTS.gateway.host,
      port: c.gateway?.port ?? DEFAULTS.gateway.port,
      ...(c.gateway?.adminHost ? { adminHost: c.gateway.adminHost } : {}),
      adminPort: c.gateway?.adminPort ?? DEFAULTS.gateway.adminPort,
      ...(c.gateway?.cors?.origins.length ? { cors: c.gateway.cors } : {}),
      ...(c.gateway?.ip ? { ip: c.gateway.ip } : {}),
      plans,
      auth: {
        cacheMs: c.gateway?.auth?.cacheMs ?? DEFAULTS.gateway.auth.cacheMs,
        revocationSweepMs: c.gateway?.auth?.revocationSweepMs ?? DEFAULTS.gateway.auth.revocationSweepMs,
        maxFailures: c.gateway?.auth?.maxFailures ?? DEFAULTS.gateway.auth.maxFailures,
        failureWindowMs: c.gateway?.auth?.failureWindowMs ?? DEFAULTS.gateway.auth.failureWindowMs,
        ...(parsedJwt ? { jwt: compileJwt(parsedJwt, DEFAULTS.gateway.auth.jwt) } : {}),
      },
      limits: { ...c.gateway?.limits },
      heartbeatMs: c.gateway?.heartbeatMs ?? DEFAULTS.gateway.heartbeatMs,
      console: c.gateway?.console ?? DEFAULTS.gateway.console,
    },
    routing: { ...c.routing },
    memory,
    budgets: { ...DEFAULTS.budgets, ...c.budgets },
    limits: {
      ...DEFAULTS.limits,
      ...c.limits,
      breaker: { ...DEFAULTS.limits.breaker, ...c.limits?.breaker },
    },
    telemetry: {
      serviceName: c.telemetry?.serviceName ?? DEFAULTS.telemetry.serviceName,
      otlp: { ...c.telemetry?.otlp },
      traces: c.telemetry?.traces ?? DEFAULTS.telemetry.traces,
      metrics: c.telemetry?.metrics ?? DEFAULTS.telemetry.metrics,
      logLevel: c.telemetry?.logLevel ?? DEFAULTS.telemetry.logLevel,
      captureContent: c.telemetry?.captureContent ?? DEFAULTS.telemetry.captureContent,
      prices: { ...c.telemetry?.prices },
    },
    batch: { ...DEFAULTS.batch, ...c.batch },
    ...(mcp ? { mcp } : {}),
    webhooks: compileWebhooks(parsed.data.webhooks ?? [], DEFAULTS.webhook),
    schedules: withSource(() => compileSchedules(c.schedules ?? []), where),
    ...(c.faults ? { faults: c.faults } : {}),
    audit: { ...(c.audit?.key ? { key: c.audit.key } : {}), previousKeys: c.audit?.previousKeys ?? [] },
    deployments: resolveDeploymentOptions(c.deployments),
    fromEnv: sources,
  };
  if (Array.isArray(compiled.agents)) {
    checkAgents(compiled.agents, compiled, where);
    const names = new Set(compiled.agents.map((a) => a.name));
    withSource(() => checkScheduleAgents(compiled.schedules, names), where);
  }
  return compiled;
}

/** Run a check whose ConfigError should name the configuration file too. */
function withSource<T>(fn: () => T, where: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ConfigError && where)
      throw new ConfigError(error.key, error.message.slice(error.key.length + 2) + where);
    throw error;
  }
}

function readJson(path: string, key: string, read?: (path: string) => string): unknown {
  if (!read) throw new ConfigError(key, `cannot read ${path} here; pass the MCP configuration as an object`);
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new ConfigError(key, `cannot read ${path}: ${(error as Error).message}; point it at a JSON file`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(key, `${path} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * A user's project: find and load its `switchboard.config.{ts,mts,js,mjs}`, then open the system it
 * describes — agents (a factory is called once per process), model, store, API keys. Every CLI
 * command acts on what this module opens; nothing here knows about the reference example.
 */
import { secretsOf } from './core/scrub.ts';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { AgentDefinition } from './core/agent.ts';
import { ConfigError } from './core/errors.ts';
import { checkAgents, compileConfig, type CompiledConfig, type ConfigContext, type Env } from './config.ts';
import type { KeyStore } from './gateway/keys.ts';
import type { McpTools } from './mcp/tools.ts';
import type { Store } from './store/ports.ts';
import { createSystem, systemOptionsOf, type System, type SystemOptions } from './system.ts';

/** Looked for, in this order, in the current directory. */
export const CONFIG_FILES = [
  'switchboard.config.ts',
  'switchboard.config.mts',
  'switchboard.config.js',
  'switchboard.config.mjs',
] as const;

/** No configuration was found; `switchboard init` makes one. */
export class ConfigMissingError extends ConfigError {
  constructor(cwd: string) {
    super(
      'config',
      `no switchboard.config.ts in ${cwd}: create a project with \`switchboard init\`, or pass --config <file> (or set SWITCHBOARD_CONFIG)`,
    );
  }
}

/** `--config`, else `$SWITCHBOARD_CONFIG`, else the first of {@link CONFIG_FILES} in `cwd`. */
export function findConfig(options: { config?: string; cwd?: string; env?: Env } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const given = options.config ?? options.env?.SWITCHBOARD_CONFIG;
  if (given !== undefined && given.trim() !== '') {
    const path = resolve(cwd, given);
    if (!existsSync(path))
      throw new ConfigError(options.config ? '--config' : 'SWITCHBOARD_CONFIG', `${given} does not exist`);
    return path;
  }
  for (const name of CONFIG_FILES) {
    const path = join(cwd, name);
    if (existsSync(path)) return path;
  }
  throw new ConfigMissingError(cwd);
}

/** Import a configuration module and validate its default export. */
export async function loadConfig(
  options: { config?: string; cwd?: string; env?: Env; query?: string } = {},
): Promise<CompiledConfig> {
  const path = findConfig(options);
  const cwd = options.cwd ?? process.cwd();
  const shown = relative(cwd, path) || path;
  let mod: { default?: unknown; config?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href + (options.query ?? ''))) as typeof mod;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(shown, `cannot load: ${message}`);
  }
  const raw = mod.default ?? mod.config;
  if (raw === undefined)
    throw new ConfigError(shown, 'has no default export: `export default defineConfig({ agents: [...] })`');
  return compileConfig(raw, {
    source: shown,
    ...(options.env ? { env: options.env } : {}),
    cwd: dirname(path),
    readFile: (p) => readFileSync(resolve(dirname(path), p), 'utf8'),
  });
}

export interface OpenOptions {
  /** The process role: names its database connections and decides what it runs. */
  role?: 'cli' | 'serve' | 'gateway' | 'worker' | 'demo';
  /** Start workers for these agents only, or none (`false`). Default: every agent. */
  workers?: SystemOptions['workers'];
  /** Per-agent worker concurrency in this process (`worker --concurrency`). */
  concurrency?: number;
  /** Passed to an `agents` factory (`demo --reset`). */
  reset?: boolean;
  /** Provider credentials and the like (the CLI passes the process environment). */
  env?: Env;
  /** A store of the caller's (tests); otherwise SQLite in the data directory or PostgreSQL. */
  store?: Store;
  /** Replace the configured model (tests). */
  model?: LanguageModelV4;
  system?: Partial<SystemOptions>;
  onError?: (error: unknown) => void;
}

/** An opened project: its system, agents and key store. */
export interface Project {
  readonly config: CompiledConfig;
  readonly system: System;
  readonly agents: AgentDefinition[];
  readonly store: Store;
  /** `postgres` when the store is PostgreSQL (keys and usage are shared there too). */
  readonly storeKind: 'sqlite' | 'postgres';
  /** A label of the model agents run on by default (`offline`, `openai:gpt-4o-mini`, …). */
  readonly modelLabel: string;
  /** Credential values of the environment and store URL: scrubbed from errors, logs and traces. */
  readonly secrets: readonly string[];
  /** The API key store (opened on first use): PostgreSQL with the store, else `<dataDir>/gateway.db`. */
  keys(): Promise<KeyStore>;
  /** Stop the system, close the store, the key store and whatever the agents factory opened. */
  close(): Promise<void>;
}

/**
 * The API key store of a configuration, without opening its system (what `keys` commands need):
 * the PostgreSQL schema when the store is PostgreSQL, else `<dataDir>/gateway.db`.
 */
export async function openKeyStore(config: CompiledConfig, role = 'cli'): Promise<KeyStore> {
  const { url, schema, dataDir } = config.store;
  return url
    ? (await import('./gateway/keys-postgres.ts')).createPostgresKeyStore({
        url,
        schema,
        applicationName: `switchboard-${role}-keys`,
      })
    : (await import('./gateway/keys.ts')).createSqliteKeyStore({ path: join(dataDir, 'gateway.db') });
}

/** The default model: a configured provider (loaded only then), else the offline model. */
export async function modelOf(
  config: CompiledConfig,
  env: Env,
): Promise<{ model: LanguageModelV4; label: string }> {
  if (typeof config.model === 'object') return { model: config.model, label: config.model.modelId };
  if (config.model === 'offline') {
    const { createOfflineModel, OFFLINE_MODEL_LABEL } = await import('./models/offline.ts');
    return { model: createOfflineModel(), label: OFFLINE_MODEL_LABEL };
  }
  const variable = config.fromEnv.model ?? 'model';
  const [{ createModel }, { resilientModel }] = await Promise.all([
    import('./models/providers.ts'),
    import('./models/resilient.ts'),
  ]);
  const base = createModel(config.model, env, { variable });
  return { model: resilientModel(base, config.modelSettings), label: config.model };
}

/**
 * Open the system a configuration describes. Fails at start-up, never at the first request, on a
 * bad configuration.
 * @example
 * const project = await openProject(await loadConfig(), { role: 'cli', workers: false });
 * console.log(await project.system.list());
 * await project.close();
 */
export async function openProject(config: CompiledConfig, options: OpenOptions = {}): Promise<Project> {
  const env = options.env ?? {};
  const role = options.role ?? 'cli';
  const closers: (() => void | Promise<void>)[] = [];
  const pg = config.store.url ? { url: config.store.url, schema: config.store.schema } : null;
  const onError =
    options.onError ??
    ((e: unknown) => console.error(`[switchboard] ${e instanceof Error ? e.message : String(e)}`));
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    let mcp: McpTools | null = null;
    if (config.mcp) {
      const { connectMcp } = await import('./mcp/tools.ts');
      mcp = await connectMcp(config.mcp);
      const opened = mcp;
      closers.push(() => opened.close());
    }
    const ctx: ConfigContext = {
      dataDir: config.store.dataDir,
      store: pg ? { kind: 'postgres', ...pg } : { kind: 'sqlite' },
      reset: options.reset ?? false,
      env,
      onClose: (fn) => void closers.push(fn),
    };
    let agents = Array.isArray(config.agents) ? config.agents : await config.agents(ctx);
    checkAgents(agents, config, config.source ? ` (in ${config.source})` : '');
    if (mcp) {
      const tools = mcp;
      agents = agents.map((a) => ({ ...a, tools: [...a.tools, ...tools.toolsFor(a.name)] }));
    }
    if (options.concurrency !== undefined)
      agents = agents.map((a) => ({ ...a, concurrency: options.concurrency! }));
    const { model, label } = options.model
      ? { model: options.model, label: options.model.modelId }
      : await modelOf(config, env);
    let store = options.store;
    if (!store) {
      if (pg) {
        const { createPostgresStore } = await import('./store/postgres/store.ts');
        store = createPostgresStore({
          ...pg,
          audit: config.audit,
          poolSize: config.store.poolSize,
          applicationName: `switchboard-${role}`,
          onError: (e) => onError(e),
        });
      } else {
        const { createSqliteStore } = await import('./store/sqlite/store.ts');
        store = createSqliteStore({
          path: join(config.store.dataDir, 'switchboard.db'),
          audit: config.audit,
        });
      }
      const opened = store;
      closers.push(() => opened.close());
    }
    // Credentials in the environment, the store URL's password and the audit keys (set in a file too).
    const secrets = secretsOf(env, config.store.url ? [config.store.url] : [], [
      config.audit.key,
      ...config.audit.previousKeys,
    ]);
    const system = createSystem({
      ...systemOptionsOf({ ...config, agents }),
      model,
      store,
      onError,
      secrets,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...options.system,
    });
    let keyStore: Promise<KeyStore> | null = null;
    const project: Project = {
      config,
      system,
      agents,
      store,
      storeKind: pg ? 'postgres' : 'sqlite',
      modelLabel: label,
      secrets,
      keys() {
        keyStore ??= (async () => {
          const keys = await openKeyStore(config, role);
          closers.push(() => keys.close());
          return keys;
        })();
        return keyStore;
      },
      async close() {
        await system.stop();
        await closeAll();
      },
    };
    return project;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

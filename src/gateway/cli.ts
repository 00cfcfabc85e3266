/**
 * The gateway's CLI commands as functions of an opened project and parsed options: `serve`,
 * `keys create|revoke|list`, and the demo's gateway. src/cli/serve.ts wraps them in commands.
 */
import { join } from 'node:path';
import { packageRoot } from '../package-info.ts';
import { UserError } from '../core/errors.ts';
import type { CompiledConfig } from '../config.ts';
import type { Project } from '../project.ts';
import type { System } from '../system.ts';
import { issueKey, resolveKeyRef, type IssuedKey, type KeyStore } from './keys.ts';
import { DEFAULT_PLANS } from './plans.ts';
import { createKeyBody, describeIssue } from './schemas.ts';
import { createGateway, type Gateway, type GatewayOptions } from './server.ts';

type Print = (line: string) => void;

/** Listener flags of `serve`, `gateway`, `dev` and `demo`; they override the configuration. */
export interface ServeOptions {
  port?: number;
  adminPort?: number;
  host?: string;
}

export interface Serving {
  gateway: Gateway;
  system: System;
  stop(): Promise<void>;
}

/** The gateway options of a configuration, with listener flags applied. */
export function gatewayOptionsOf(
  config: CompiledConfig,
  flags: ServeOptions = {},
): Omit<GatewayOptions, 'system' | 'keys'> {
  const g = config.gateway;
  return {
    host: flags.host ?? g.host,
    port: flags.port ?? g.port,
    ...(g.adminHost ? { adminHost: g.adminHost } : {}),
    adminPort: flags.adminPort ?? g.adminPort,
    ...(g.cors ? { cors: g.cors } : {}),
    ...(g.ip ? { ip: g.ip } : {}),
    plans: { ...DEFAULT_PLANS, ...g.plans },
    limits: g.limits,
    heartbeatMs: g.heartbeatMs,
    authCacheMs: g.auth.cacheMs,
    revocationSweepMs: g.auth.revocationSweepMs,
    authThrottle: { maxFailures: g.auth.maxFailures, windowMs: g.auth.failureWindowMs },
    ...(g.auth.jwt ? { jwt: g.auth.jwt } : {}),
    ...(config.webhooks.length ? { webhooks: config.webhooks } : {}),
    batch: { ...config.batch, routerConcurrency: config.limits.routerConcurrency },
    // The console is built into the package (console/dist), wherever the process runs from.
    consoleDir: g.console ? join(packageRoot(), 'console', 'dist') : false,
  };
}

/** Plan counters where the keys are: shared on PostgreSQL, in this process otherwise. */
async function usageOf(project: Project, plans: GatewayOptions['plans']): Promise<Partial<GatewayOptions>> {
  const { url, schema } = project.config.store;
  if (!url) return {};
  const { createPostgresUsage } = await import('./usage-postgres.ts');
  return { usage: createPostgresUsage({ url, schema, plans: plans ?? DEFAULT_PLANS }) };
}

/**
 * Put the gateway in front of an opened project (its system already started, or not: a
 * gateway-only process runs no workers), until `stop()`.
 * @example
 * const serving = await serve(project, { port: 8080 }, console.log);
 */
export async function serve(
  project: Project,
  flags: ServeOptions = {},
  print: Print = console.log,
  extra: Partial<GatewayOptions> = {},
): Promise<Serving> {
  const keys = await project.keys();
  const options = gatewayOptionsOf(project.config, flags);
  const usage = await usageOf(project, options.plans);
  const gateway = createGateway({
    system: project.system,
    keys,
    ...options,
    ...usage,
    onError: (e) => console.error(`[gateway] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    ...extra,
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await gateway.stop();
    await usage.usage?.close();
  };
  try {
    const { url, adminUrl } = await gateway.start();
    print(
      `switchboard gateway on ${url} (API ${url}/v1, OpenAPI ${url}/v1/openapi.json, WebSocket ${url.replace('http', 'ws')}/v1/ws)`,
    );
    if (adminUrl) print(`admin listener on ${adminUrl} (metrics and /admin/keys; keep it private)`);
    if ((await keys.list()).every((k) => k.revokedAt !== null))
      print('no API keys yet: create one with `switchboard keys create --name <you> --role user`');
  } catch (error) {
    await stop();
    throw error;
  }
  return { gateway, system: project.system, stop };
}

export interface KeysCreateOptions {
  name: string;
  role: string;
  plan?: string;
  json?: boolean;
}

/** `switchboard keys create`: prints the key once (`--json`: `{ "id", "key", "role" }`). */
export async function keysCreate(
  opts: KeysCreateOptions,
  print: Print,
  keys: KeyStore,
  plans: Readonly<Record<string, unknown>> = DEFAULT_PLANS,
): Promise<IssuedKey> {
  const checked = createKeyBody(Object.keys(plans)).safeParse({
    name: opts.name,
    role: opts.role,
    ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
  });
  if (!checked.success) {
    const { field, message } = describeIssue(checked.error);
    throw new UserError(`--${field} ${message}`, field);
  }
  {
    const issued = await issueKey(keys, checked.data);
    if (opts.json) print(JSON.stringify({ id: issued.id, key: issued.key, role: issued.role }));
    else {
      print(`created ${issued.id} (${issued.role}, plan ${issued.plan}) acting as "${issued.actorId}"`);
      print(`key: ${issued.key}`);
      print('this is the only time the key is shown: store it now');
    }
    return issued;
  }
}

/** `switchboard keys revoke <id|name>`: open connections using the key close within a second. */
export async function keysRevoke(
  opts: { key: string; json?: boolean },
  print: Print,
  keys: KeyStore,
): Promise<void> {
  {
    const record = await resolveKeyRef(keys, opts.key);
    if (!record) throw new UserError(`no key "${opts.key}"`, 'key');
    await keys.revoke(record.id, Date.now());
    if (opts.json) print(JSON.stringify({ id: record.id, revoked: true }));
    else print(`revoked ${record.id} (${record.name})`);
  }
}

/** `switchboard keys list`: ids, names, roles, plans and state — never the keys. */
export async function keysList(
  opts: { json?: boolean; all?: boolean },
  print: Print,
  keys: KeyStore,
): Promise<void> {
  {
    const list = (await keys.list()).filter((k) => opts.all || k.revokedAt === null);
    const rows = list.map(({ hash: _hash, ...k }) => k);
    if (opts.json) return print(JSON.stringify(rows));
    if (rows.length === 0) return print('no keys');
    for (const k of rows) {
      const state = k.revokedAt === null ? 'live' : `revoked ${new Date(k.revokedAt).toISOString()}`;
      print(`${k.id}  ${k.prefix}…  ${k.role.padEnd(8)} ${k.plan.padEnd(9)} ${k.name}  ${state}`);
    }
  }
}

/**
 * For `switchboard demo` / `npm start`: put the gateway in front of the demo's running system and
 * mint fresh demo keys (earlier demo keys are revoked), printing them once.
 */
export async function startDemoGateway(
  project: Project,
  print: Print = console.log,
  flags: ServeOptions = {},
  extra: Partial<GatewayOptions> = {},
): Promise<{
  gateway: Gateway;
  keys: { user: IssuedKey; approver: IssuedKey; admin: IssuedKey };
  stop(): Promise<void>;
}> {
  const store = await project.keys();
  for (const k of await store.list())
    if (k.name.startsWith('demo-') && k.revokedAt === null) await store.revoke(k.id, Date.now());
  const user = await issueKey(store, { name: 'demo-user', role: 'user' });
  const approver = await issueKey(store, { name: 'demo-approver', role: 'approver' });
  const admin = await issueKey(store, { name: 'demo-admin', role: 'admin', plan: 'unlimited' });
  const options = gatewayOptionsOf(project.config, flags);
  const usage = await usageOf(project, options.plans);
  const gateway = createGateway({ system: project.system, keys: store, ...options, ...usage, ...extra });
  const { url, adminUrl } = await gateway.start();
  print(`gateway: ${url}  (console ${url}/, API ${url}/v1, admin ${adminUrl ?? 'off'})`);
  print(`  user key:     ${user.key}`);
  print(`  approver key: ${approver.key}`);
  print(`  admin key:    ${admin.key}`);
  print(`  try: curl -H "Authorization: Bearer ${user.key}" ${url}/v1/agents`);
  return {
    gateway,
    keys: { user, approver, admin },
    stop: async () => {
      await gateway.stop();
      await usage.usage?.close();
    },
  };
}

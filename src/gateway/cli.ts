/**
 * The gateway's CLI commands as functions of parsed options: `serve`, `keys create|revoke|list`,
 * and the demo's gateway. src/cli/main.ts wraps them in commander commands.
 */
import { join } from 'node:path';
import { ConfigError, UserError } from '../core/errors.ts';
import type { System } from '../system.ts';
import { dataDir, openApp } from '../cli/app.ts';
import {
  createSqliteKeyStore,
  issueKey,
  resolveKeyRef,
  ROLES,
  type IssuedKey,
  type KeyStore,
  type Role,
} from './keys.ts';
import { DEFAULT_PLANS } from './plans.ts';
import { createGateway, type Gateway, type GatewayOptions } from './server.ts';

type Print = (line: string) => void;

/** The key store of a data directory: `<dataDir>/gateway.db`. */
export function openKeyStore(dir: string = dataDir()): KeyStore {
  return createSqliteKeyStore({ path: join(dir, 'gateway.db') });
}

function port(value: string | number | undefined, key: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new ConfigError(key, `must be a port number (0-65535), got "${value}"`);
  return n;
}

export interface ServeOptions {
  port?: number;
  adminPort?: number;
  host?: string;
  /** Browser origins allowed (CORS); also `$SWITCHBOARD_CORS_ORIGINS`, comma-separated. */
  corsOrigins?: string[];
  /** Run workers in this process (default true). */
  workers?: boolean;
}

export interface Serving {
  gateway: Gateway;
  system: System;
  stop(): Promise<void>;
}

/** Resolve listener options from flags, then environment, then defaults (7070 / 7071). */
export function listenerOptions(
  opts: ServeOptions,
  env: NodeJS.ProcessEnv = process.env,
): Pick<GatewayOptions, 'host' | 'port' | 'adminPort' | 'cors'> {
  const origins =
    opts.corsOrigins ??
    env.SWITCHBOARD_CORS_ORIGINS?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    host: opts.host ?? env.SWITCHBOARD_HOST ?? '127.0.0.1',
    port: opts.port ?? port(env.SWITCHBOARD_PORT, 'SWITCHBOARD_PORT', 7070),
    adminPort: opts.adminPort ?? port(env.SWITCHBOARD_ADMIN_PORT, 'SWITCHBOARD_ADMIN_PORT', 7071),
    ...(origins?.length ? { cors: { origins } } : {}),
  };
}

/**
 * `switchboard serve`: the reference system with its workers behind the gateway, until SIGINT/SIGTERM.
 * @example
 * await serve({ port: 8080 }, console.log);
 */
export async function serve(
  opts: ServeOptions = {},
  print: Print = console.log,
  extra: Partial<GatewayOptions> = {},
): Promise<Serving> {
  const app = openApp({ system: { workers: opts.workers ?? true } });
  const keys = openKeyStore();
  await app.system.start();
  const gateway = createGateway({
    system: app.system,
    keys,
    ...listenerOptions(opts),
    onError: (e) => console.error(`[gateway] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    ...extra,
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await gateway.stop();
    await app.system.stop();
    app.business.close();
    await keys.close();
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
  const onSignal = (): void => {
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { gateway, system: app.system, stop };
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
  print: Print = console.log,
  store?: KeyStore,
): Promise<IssuedKey> {
  if (!(ROLES as readonly string[]).includes(opts.role))
    throw new UserError(`--role must be one of ${ROLES.join(', ')}`, 'role');
  if (opts.plan !== undefined && !Object.hasOwn(DEFAULT_PLANS, opts.plan))
    throw new UserError(`--plan must be one of ${Object.keys(DEFAULT_PLANS).join(', ')}`, 'plan');
  const keys = store ?? openKeyStore();
  try {
    const issued = await issueKey(keys, {
      name: opts.name,
      role: opts.role as Role,
      ...(opts.plan ? { plan: opts.plan } : {}),
    });
    if (opts.json) print(JSON.stringify({ id: issued.id, key: issued.key, role: issued.role }));
    else {
      print(`created ${issued.id} (${issued.role}, plan ${issued.plan}) acting as "${issued.actorId}"`);
      print(`key: ${issued.key}`);
      print('this is the only time the key is shown: store it now');
    }
    return issued;
  } finally {
    if (!store) await keys.close();
  }
}

/** `switchboard keys revoke <id|name>`: open connections using the key close within a second. */
export async function keysRevoke(
  opts: { key: string; json?: boolean },
  print: Print = console.log,
  store?: KeyStore,
): Promise<void> {
  const keys = store ?? openKeyStore();
  try {
    const record = await resolveKeyRef(keys, opts.key);
    if (!record) throw new UserError(`no key "${opts.key}"`, 'key');
    await keys.revoke(record.id, Date.now());
    if (opts.json) print(JSON.stringify({ id: record.id, revoked: true }));
    else print(`revoked ${record.id} (${record.name})`);
  } finally {
    if (!store) await keys.close();
  }
}

/** `switchboard keys list`: ids, names, roles, plans and state — never the keys. */
export async function keysList(
  opts: { json?: boolean; all?: boolean } = {},
  print: Print = console.log,
  store?: KeyStore,
): Promise<void> {
  const keys = store ?? openKeyStore();
  try {
    const list = (await keys.list()).filter((k) => opts.all || k.revokedAt === null);
    const rows = list.map(({ hash: _hash, ...k }) => k);
    if (opts.json) return print(JSON.stringify(rows));
    if (rows.length === 0) return print('no keys');
    for (const k of rows) {
      const state = k.revokedAt === null ? 'live' : `revoked ${new Date(k.revokedAt).toISOString()}`;
      print(`${k.id}  ${k.prefix}…  ${k.role.padEnd(8)} ${k.plan.padEnd(9)} ${k.name}  ${state}`);
    }
  } finally {
    if (!store) await keys.close();
  }
}

/**
 * For `switchboard demo` / `npm start`: put the gateway in front of the demo's running system and
 * mint fresh demo keys (earlier demo keys are revoked), printing them once.
 */
export async function startDemoGateway(
  system: System,
  print: Print = console.log,
  opts: ServeOptions = {},
  extra: Partial<GatewayOptions> = {},
): Promise<{
  gateway: Gateway;
  keys: { user: IssuedKey; approver: IssuedKey; admin: IssuedKey };
  stop(): Promise<void>;
}> {
  const store = openKeyStore();
  for (const k of await store.list())
    if (k.name.startsWith('demo-') && k.revokedAt === null) await store.revoke(k.id, Date.now());
  const user = await issueKey(store, { name: 'demo-user', role: 'user' });
  const approver = await issueKey(store, { name: 'demo-approver', role: 'approver' });
  const admin = await issueKey(store, { name: 'demo-admin', role: 'admin', plan: 'unlimited' });
  const gateway = createGateway({ system, keys: store, ...listenerOptions(opts), ...extra });
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
      await store.close();
    },
  };
}

/**
 * The gateway: a public listener (REST + SSE + WebSocket, default 127.0.0.1:7070) and a private
 * listener (metrics and administration, default 127.0.0.1:7071) in front of a {@link System}.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { ConfigError } from '../core/errors.ts';
import type { System } from '../system.ts';
import { Authenticator } from './auth.ts';
import { Connections } from './connections.ts';
import {
  DEFAULT_LIMITS,
  type BatchSettings,
  type Edge,
  type GatewayInstance,
  type GatewayLimits,
} from './context.ts';
import { resumeBatchDrivers, stopBatchDrivers } from './batches.ts';
import { HttpError } from './errors.ts';
import { RunFeed } from '../store/feed.ts';
import {
  bodyLimitOf,
  edgeMiddleware,
  parse,
  publicApp,
  readJson,
  type FetchHandler,
  type GatewayEnv,
} from './http.ts';
import type { WebhookConfig } from './hooks.ts';
import { JwtVerifier, type JwtConfig } from './jwt.ts';
import { issueKey, type KeyStore } from './keys.ts';
import type { IpRules } from './net.ts';
import { DEFAULT_PLANS, UsageMeter, type Plan, type UsageCounter } from './plans.ts';
import { createKeyBody, PathId } from './schemas.ts';
import { AuthThrottle } from './throttle.ts';
import { WsGateway } from './ws.ts';

export interface GatewayOptions {
  system: System;
  keys: KeyStore;
  /** Public listener; port 0 picks a free one. */
  host?: string;
  port?: number;
  /** Private listener for /metrics and admin routes; `false` for none. */
  adminHost?: string;
  adminPort?: number | false;
  plans?: Record<string, Plan>;
  /**
   * Plan counters (default: this process's, a `UsageMeter` on `plans`). Pass `createPostgresUsage`
   * to share them across replicas; its plans are the ones enforced. The caller closes it.
   */
  usage?: UsageCounter;
  /** Browser origins allowed to call the API (`*` for any). No CORS headers when absent. */
  cors?: { origins: string[] };
  ip?: { public?: IpRules; admin?: IpRules };
  /**
   * Routes of the private listener, by path (all methods), e.g. `{ '/metrics': metricsHandler }`
   * from src/telemetry. Admin key routes (`/admin/keys`) are built in.
   */
  adminRoutes?: Record<string, FetchHandler>;
  /** Static console files served at `/` (default `console/dist` when it exists); `false` for none. */
  consoleDir?: string | false;
  limits?: Partial<GatewayLimits>;
  /** How `POST /v1/batches` batches are driven (`batch`, docs/batch.md). */
  batch?: BatchSettings;
  /** Silence after which subscribers get a heartbeat (5 s). */
  heartbeatMs?: number;
  /** How often open connections' keys are re-checked (revocation takes effect within this + the auth cache). */
  revocationSweepMs?: number;
  authCacheMs?: number;
  /** Failed authentications per client address before 429 (default 20 per 60 s). */
  authThrottle?: { maxFailures?: number; windowMs?: number };
  /** Accept JWTs of this issuer beside API keys (`gateway.auth.jwt`, docs/gateway.md). */
  jwt?: JwtConfig;
  /** Signed webhooks at `POST /v1/hooks/:name` (`webhooks`, docs/webhooks.md). */
  webhooks?: readonly WebhookConfig[];
  version?: string;
  /** Reported by `GET /v1/status` (start time, configuration, `switchboard dev` reloads). */
  instance?: Partial<GatewayInstance>;
  onRequest?: (entry: Record<string, unknown>) => void;
  onError?: (error: unknown) => void;
}

export interface Gateway {
  /** `http://host:port` of each listener, once started. */
  readonly url: string;
  readonly adminUrl: string | null;
  /** Observations for tests and metrics: 'slow-consumer', 'ws-open', 'ws-close'. */
  readonly events: EventEmitter;
  start(): Promise<{ url: string; adminUrl: string | null }>;
  /** Stop accepting, close streams and sockets, and close the listeners (the system is the caller's). */
  stop(): Promise<void>;
  stats(): { wsConnections: number; subscriptions: number; maxWsBuffered: number };
}

const urlOf = (server: Server): string => {
  const a = server.address() as AddressInfo;
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
};

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const nodeHandler = (app: Hono<GatewayEnv>) => {
  const listener = getRequestListener(app.fetch);
  return (req: IncomingMessage, res: ServerResponse): void => void listener(req, res);
};

/** Track sockets so stop() can end keep-alive connections promptly. */
function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

function adminApp(
  edge: Edge,
  options: GatewayOptions,
  keys: KeyStore,
  planNames: readonly string[],
): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  edgeMiddleware(app, edge, {
    key: 'ip.admin',
    ...(options.ip?.admin ? { ip: options.ip.admin } : {}),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
  for (const [path, handler] of Object.entries(options.adminRoutes ?? {}))
    app.all(path, (c) => handler(c.req.raw));
  const admin = async (c: Context<GatewayEnv>) => {
    const p = await edge.auth.authenticate(
      Authenticator.keyFrom(c.req.header('authorization'), c.req.header('x-api-key')),
      c.env?.incoming?.socket?.remoteAddress,
    );
    if (p.role !== 'admin') throw new HttpError(403, 'forbidden', 'admin role required');
    return p;
  };
  const view = async (k: Awaited<ReturnType<KeyStore['list']>>[number]) => ({
    id: k.id,
    name: k.name,
    actorId: k.actorId,
    role: k.role,
    plan: k.plan,
    prefix: k.prefix,
    createdAt: k.createdAt,
    revokedAt: k.revokedAt,
    usedToday: await edge.usage.usedToday(k.id),
  });
  app.get('/admin/keys', async (c) => {
    await admin(c);
    return c.json({ keys: await Promise.all((await keys.list()).map(view)) });
  });
  const createKey = createKeyBody(planNames);
  const limit = bodyLimitOf(edge.limits.maxBodyBytes);
  app.post('/admin/keys', limit, async (c) => {
    await admin(c);
    // The schema `switchboard keys create` checks its flags with: unknown fields and plans are 400.
    const issued = await issueKey(keys, parse(createKey, await readJson(c), ''));
    return c.json(issued, 201);
  });
  app.delete('/admin/keys/:id', async (c) => {
    await admin(c);
    if (!(await keys.revoke(parse(PathId, c.req.param('id'), 'id'), Date.now())))
      throw new HttpError(404, 'not_found', 'key not found');
    await edge.connections.sweep();
    return c.json({ id: c.req.param('id'), revoked: true });
  });
  app.notFound(() => {
    throw new HttpError(404, 'not_found', 'no such route');
  });
  return app;
}

/**
 * Create the gateway (not yet listening).
 * @example
 * const gateway = createGateway({ system, keys: createSqliteKeyStore({ path: '.switchboard/gateway.db' }) });
 * const { url } = await gateway.start();
 */
export function createGateway(options: GatewayOptions): Gateway {
  const plans = { ...DEFAULT_PLANS, ...options.plans };
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (limits.maxFrameBytes > limits.maxMessageBytes)
    throw new ConfigError('limits.maxFrameBytes', 'must not exceed limits.maxMessageBytes');
  const events = new EventEmitter();
  const onError = options.onError ?? ((e: unknown) => console.error('[gateway]', e));
  const auth = new Authenticator({
    keys: options.keys,
    ...(options.authCacheMs !== undefined ? { cacheMs: options.authCacheMs } : {}),
    throttle: new AuthThrottle(options.authThrottle),
    ...(options.jwt ? { jwt: new JwtVerifier(options.jwt) } : {}),
  });
  const feed = new RunFeed(options.system.store, {
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    onError,
  });
  const connections = new Connections(auth, {
    ...(options.revocationSweepMs !== undefined ? { sweepMs: options.revocationSweepMs } : {}),
    onError,
  });
  const edge: Edge = {
    system: options.system,
    ...(options.batch ? { batch: options.batch } : {}),
    auth,
    usage: options.usage ?? new UsageMeter(plans),
    feed,
    connections,
    limits,
    version: options.version ?? '0.1.0',
    instance: { startedAt: Date.now(), ...options.instance },
    onError,
    emit: (name, detail) => events.emit(name, detail),
  };
  let draining = false;
  const app = publicApp(edge, {
    ...(options.cors ? { cors: options.cors } : {}),
    ...(options.ip?.public ? { ip: options.ip.public } : {}),
    consoleDir: options.consoleDir ?? 'console/dist',
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    ready: () => !draining,
  });
  const ws = new WsGateway(edge, {
    ...(options.cors ? { cors: options.cors } : {}),
    ...(options.ip?.public ? { ip: options.ip.public } : {}),
  });
  const listener = getRequestListener(app.fetch);
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void listener(req, res));
  const sockets = trackSockets(server);
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    ws.upgrade(req, socket, head).catch((error: unknown) => {
      onError(error);
      socket.destroy();
    });
  });
  const adminServer =
    options.adminPort === false
      ? null
      : createServer(nodeHandler(adminApp(edge, options, options.keys, Object.keys(plans))));
  const adminSockets = adminServer ? trackSockets(adminServer) : null;

  let url = '';
  let adminUrl: string | null = null;
  return {
    get url() {
      return url;
    },
    get adminUrl() {
      return adminUrl;
    },
    events,
    async start() {
      await listen(server, options.port ?? 7070, options.host ?? '127.0.0.1');
      url = urlOf(server);
      if (adminServer) {
        await listen(
          adminServer,
          typeof options.adminPort === 'number' ? options.adminPort : 7071,
          options.adminHost ?? '127.0.0.1',
        );
        adminUrl = urlOf(adminServer);
      }
      // HTTP batches a stopped or crashed gateway left running carry on here (once per record).
      await resumeBatchDrivers(edge);
      return { url, adminUrl };
    },
    async stop() {
      draining = true;
      ws.close();
      connections.closeAll(1001, 'server shutting down');
      connections.stop();
      feed.close();
      // Batches this process drives stop where they are; the next gateway to start resumes them.
      await stopBatchDrivers(options.system);
      const closing = [server, adminServer]
        .filter((s): s is Server => s !== null && s.listening)
        .map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of [...sockets, ...(adminSockets ?? [])]) s.destroy();
      server.closeAllConnections();
      adminServer?.closeAllConnections();
      await Promise.all(closing);
    },
    stats() {
      return { wsConnections: ws.size, subscriptions: feed.size, maxWsBuffered: ws.maxBuffered() };
    },
  };
}

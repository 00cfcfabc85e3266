/**
 * The public HTTP surface (`/v1`, Hono): every route comes from the route table in schemas.ts,
 * which validates its body and query with the same schemas the OpenAPI document is made from.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { z } from 'zod';
import { TERMINAL_STATUSES } from '../core/run-state.ts';
import type { RunView } from '../system.ts';
import { Authenticator, can, type Principal } from './auth.ts';
import { approvalsOf, charge, memoryOf, visibleRun, type Edge, type GatewayEnv } from './context.ts';
import { badRequest, HttpError, mapError } from './errors.ts';
import { ipFilter, requestId, traceContext, type IpRules } from './net.ts';
import { describeIssue, PathId, ROUTES, type RouteId, type RouteSpec } from './schemas.ts';
import { openApiDocument } from './openapi.ts';
import { BATCH_BODY_BYTES, batchHandlers } from './batches.ts';
import { hookTable, receiveHook, type WebhookConfig } from './hooks.ts';
import { deploymentHandlers } from './deployments.ts';
import { scheduleHandlers } from './schedules.ts';
import { sseResponse } from './sse.ts';
import { API_CSP, COMMON_HEADERS } from './security-headers.ts';
import { serveConsole } from './static.ts';
import { agentHealth } from '../telemetry/health.ts';
import { runGraph, windowGraph } from '../telemetry/graph.ts';
import { priceTable, usageReport } from '../telemetry/cost.ts';
import { parseDuration } from '../telemetry/scan.ts';
import { formatReplay, sideBySide } from '../replay/format.ts';
import {
  firstDivergence,
  replayConfigOf,
  replayRun,
  replayTotals,
  type RunReplay,
} from '../replay/replay.ts';

export type { GatewayEnv };

/** A request-handling function: `fetch`-style, for routes other modules mount (e.g. /metrics). */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** What a route handler receives: the validated body and query, and the caller. */
interface Call<B, Q> {
  c: Context<GatewayEnv>;
  body: B;
  query: Q;
  principal: Principal;
  id: string;
}

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;
type Spec<Id extends RouteId> = Extract<(typeof ROUTES)[number], { operationId: Id }>;
type BodyOf<Id extends RouteId> = Spec<Id> extends { body: infer B } ? Infer<B> : undefined;
type QueryOf<Id extends RouteId> = Spec<Id> extends { query: infer Q } ? Infer<Q> : undefined;
type Handlers = {
  [Id in RouteId]: (call: Call<BodyOf<Id>, QueryOf<Id>>) => Promise<Response>;
};

export interface HttpOptions {
  cors?: { origins: string[] };
  ip?: IpRules;
  consoleDir?: string | false;
  /** Per-request log line (method, path, status, duration, request id, actor, trace id). */
  onRequest?: (entry: Record<string, unknown>) => void;
  /** False while draining: /readyz answers 503. */
  ready: () => boolean;
  /** Signed webhooks served at `POST /v1/hooks/:name` (hooks.ts). */
  webhooks?: readonly WebhookConfig[];
}

/** Replay's report as the API shows it: the verdict, the first divergence with its diff, the text. */
export function replayBody(r: RunReplay) {
  const d = firstDivergence(r);
  const notes: string[] = [];
  const walk = (x: RunReplay): void => {
    for (const n of x.notes) notes.push(x === r ? n : `${x.runId}: ${n}`);
    x.children.forEach(walk);
  };
  walk(r);
  return {
    runId: r.runId,
    matches: d === null,
    divergence: d
      ? {
          runId: d.runId,
          seq: d.seq,
          step: d.step,
          kind: d.kind,
          agent: d.agent,
          message: d.message,
          recorded: d.recorded,
          replayed: d.replayed,
          diff: sideBySide(d.recorded, d.replayed),
        }
      : null,
    totals: replayTotals(r),
    notes,
    report: formatReplay(r),
  };
}

/** A run as the API shows it. */
export function runBody(v: RunView) {
  return {
    runId: v.runId,
    status: v.status,
    agent: v.agent,
    sessionId: v.sessionId,
    input: v.input,
    ...(v.output !== undefined ? { output: v.output } : {}),
    ...(v.error ? { error: v.error } : {}),
    ...(v.escalation ? { escalation: v.escalation } : {}),
    totals: v.totals,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    lastSeq: v.lastSeq,
  };
}

/** The request body as JSON (an empty body is `{}`); 400 `invalid_json` otherwise. */
export async function readJson(c: Context<GatewayEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON', {
      details: { field: 'body' },
    });
  }
}

/** `value` checked against `schema`; 400 naming the first offending field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { field, message } = describeIssue(r.error, prefix);
  throw badRequest(field, message);
}

/** Middleware and handlers shared by the listeners: ids, trace context, IP rules, JSON errors. */
export function edgeMiddleware(
  app: Hono<GatewayEnv>,
  edge: Edge,
  options: { ip?: IpRules; key: string; onRequest?: (entry: Record<string, unknown>) => void },
): void {
  const allowed = ipFilter(options.ip, options.key);
  app.onError((error, c) => {
    const m = mapError(error, edge.onError);
    return c.json(m.body, m.status as 400, m.headers);
  });
  app.use(async (c, next) => {
    const started = performance.now();
    const rid = requestId(c.req.header('x-request-id'));
    const trace = traceContext(c.req.header('traceparent'));
    c.set('requestId', rid);
    c.set('trace', trace);
    try {
      if (!allowed(c.env?.incoming?.socket?.remoteAddress))
        throw new HttpError(403, 'forbidden', 'address not allowed');
      await next();
    } catch (error) {
      const m = mapError(error, edge.onError);
      c.res = c.json(m.body, m.status as 400, m.headers);
    }
    c.res.headers.set('X-Request-Id', rid);
    c.res.headers.set('traceparent', trace.traceparent);
    for (const [name, value] of Object.entries(COMMON_HEADERS)) c.res.headers.set(name, value);
    if (!c.res.headers.has('Content-Security-Policy')) c.res.headers.set('Content-Security-Policy', API_CSP);
    options.onRequest?.({
      requestId: rid,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      actorId: c.get('principal')?.actorId,
      traceId: trace.traceId,
    });
  });
}

/** The request body limit of every route with a body: 413 `payload_too_large` above `maxBytes`. */
export const bodyLimitOf = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpError(413, 'payload_too_large', `request body is larger than ${maxBytes} bytes`);
    },
  });

/** The public listener's application. */
export function publicApp(edge: Edge, options: HttpOptions): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  edgeMiddleware(app, edge, {
    key: 'ip.public',
    ...(options.ip ? { ip: options.ip } : {}),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
  if (options.cors) {
    const origins = new Set(options.cors.origins);
    app.use(
      '/v1/*',
      cors({
        origin: (origin) => (origins.has('*') || origins.has(origin) ? origin : null),
        allowHeaders: [
          'Authorization',
          'Content-Type',
          'Idempotency-Key',
          'Last-Event-ID',
          'X-Request-Id',
          'traceparent',
          'X-API-Key',
        ],
        exposeHeaders: ['X-Request-Id', 'Retry-After', 'traceparent', 'Idempotent-Replayed'],
        maxAge: 600,
      }),
    );
  }
  const openapi = openApiDocument(edge.version);
  app.get('/v1/openapi.json', (c) => c.json(openapi));

  const handlers = routeHandlers(edge, options);
  const limit = bodyLimitOf(edge.limits.maxBodyBytes);
  // A batch body is JSONL of many requests: its own, larger limit (`batch.maxBodyBytes`).
  const batchLimit = bodyLimitOf(edge.batch?.maxBodyBytes ?? BATCH_BODY_BYTES);
  for (const spec of ROUTES as readonly RouteSpec[]) {
    const handler = handlers[spec.operationId as RouteId] as (
      call: Call<unknown, unknown>,
    ) => Promise<Response>;
    app.on(spec.method.toUpperCase(), spec.path, spec.rawBody ? batchLimit : limit, async (c) => {
      let principal: Principal = { keyId: '', actorId: '', role: 'user', plan: 'default' };
      if (spec.auth !== false) {
        principal = await edge.auth.authenticate(
          Authenticator.keyFrom(c.req.header('authorization'), c.req.header('x-api-key')),
          c.env?.incoming?.socket?.remoteAddress,
        );
        c.set('principal', principal);
        if (spec.roles && !spec.roles.includes(principal.role))
          throw new HttpError(403, 'forbidden', `role ${principal.role} may not call ${spec.operationId}`);
        await charge(edge, principal);
      }
      const body = spec.body ? parse(spec.body, await readJson(c), '') : undefined;
      const query = spec.query ? parse(spec.query, c.req.query(), '') : undefined;
      const id = spec.path.includes(':id') ? parse(PathId, c.req.param('id'), 'id') : '';
      return handler({ c, body, query, principal, id });
    });
  }
  app.all('/v1/*', () => {
    throw new HttpError(404, 'not_found', 'no such route');
  });
  if (options.consoleDir) serveConsole(app, options.consoleDir);
  app.notFound(() => {
    throw new HttpError(404, 'not_found', 'no such route');
  });
  return app;
}

const notEnabled = (what: string, issue: string): HttpError =>
  new HttpError(501, 'not_implemented', `${what} are not enabled in this system (${issue})`);

/** Runs: submit, list, read, follow, cancel, replay. */
function runHandlers(
  edge: Edge,
): Pick<Handlers, 'submitRun' | 'listRuns' | 'getRun' | 'runEvents' | 'cancelRun' | 'replayRun'> {
  const { system } = edge;
  return {
    async submitRun({ c, body, principal }) {
      const header = c.req.header('idempotency-key');
      if (header !== undefined && (header.length === 0 || header.length > 200))
        throw badRequest('Idempotency-Key', 'must be 1 to 200 characters');
      if (header !== undefined && body.clientMessageId !== undefined && header !== body.clientMessageId)
        throw badRequest('Idempotency-Key', 'differs from clientMessageId');
      const clientMessageId = body.clientMessageId ?? header;
      const r = await system.submit({
        actorId: principal.actorId,
        sessionId: body.sessionId,
        input: body.input,
        channel: 'http',
        role: principal.role,
        ...(c.req.header('traceparent') ? { traceparent: c.req.header('traceparent') ?? '' } : {}),
        ...(body.agent !== undefined ? { agent: body.agent } : {}),
        ...(body.version !== undefined ? { version: body.version } : {}),
        ...(clientMessageId !== undefined ? { clientMessageId } : {}),
      });
      const headers: Record<string, string> = r.deduplicated ? { 'Idempotent-Replayed': 'true' } : {};
      if (body.wait) {
        // A timer cleared when the run ends: AbortSignal.timeout would hold the wait's closure (and
        // the signal AbortSignal.any derives from it) for the full wait timeout after every run.
        const waiting = new AbortController();
        const timer = setTimeout(() => waiting.abort(), edge.limits.waitTimeoutMs);
        const abort = (): void => waiting.abort();
        c.req.raw.signal.addEventListener('abort', abort, { once: true });
        const view = await system.wait(r.runId, { signal: waiting.signal }).finally(() => {
          clearTimeout(timer);
          c.req.raw.signal.removeEventListener('abort', abort);
        });
        if (TERMINAL_STATUSES.has(view.status)) return c.json(runBody(view), 200, headers);
        return c.json({ runId: r.runId, status: view.status, deduplicated: r.deduplicated }, 202, headers);
      }
      return c.json({ runId: r.runId, status: r.status, deduplicated: r.deduplicated }, 202, headers);
    },

    async listRuns({ c, query, principal }) {
      // Users see their own runs; operators and admins see everyone's (or one actor's).
      const sees = principal.role === 'operator' || principal.role === 'admin';
      if (query.actorId !== undefined && !sees && query.actorId !== principal.actorId) {
        throw new HttpError(403, 'forbidden', "only operators and admins may list another actor's runs");
      }
      const actor = sees ? query.actorId : principal.actorId;
      const rows = await system.list({
        ...(actor !== undefined ? { actorId: actor } : {}),
        limit: query.limit ?? 50,
        ...(query.sessionId ? { sessionId: query.sessionId } : {}),
        ...(query.status ? { status: query.status } : {}),
      });
      return c.json({
        runs: rows.map((r) => ({
          runId: r.runId,
          status: r.status,
          agent: r.agent,
          sessionId: r.sessionId,
          actorId: r.actorId,
          parentRunId: r.parentRunId,
          summary: r.summary,
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
        })),
      });
    },

    async getRun({ c, id, principal }) {
      await visibleRun(edge, principal, id);
      return c.json(runBody(await system.get(id)));
    },

    async runEvents({ c, id, query, principal }) {
      const row = await visibleRun(edge, principal, id);
      const lastEventId = c.req.header('last-event-id');
      let after = query.after ?? 0;
      if (lastEventId !== undefined) {
        const n = Number(lastEventId);
        if (!Number.isInteger(n) || n < 0) throw badRequest('Last-Event-ID', 'must be a journal seq');
        after = Math.max(after, n);
      }
      if ((c.req.header('accept') ?? '').includes('text/event-stream')) {
        return sseResponse(
          edge,
          principal,
          id,
          after,
          c.req.raw.signal,
          TERMINAL_STATUSES.has(row.status) ? row.lastSeq : undefined,
        );
      }
      return c.json(await system.store.journal.read(id, after));
    },

    async cancelRun({ c, id, body, principal }) {
      await visibleRun(edge, principal, id);
      const view = await system.cancel(id, {
        by: principal.actorId,
        ...(body.reason ? { reason: body.reason } : {}),
      });
      return c.json(runBody(view));
    },

    async replayRun({ c, id, principal }) {
      await visibleRun(edge, principal, id);
      // Served from the journal with the system's own agents and routing: no model call, no tool.
      const report = await replayRun((runId) => system.store.journal.read(runId), id, replayConfigOf(system));
      return c.json(replayBody(report));
    },
  };
}

/** What operators look at: agents and their health, run and system graphs, usage. */
function insightHandlers(edge: Edge): Pick<Handlers, 'listAgents' | 'runGraph' | 'systemGraph' | 'usage'> {
  const { system } = edge;
  const prices = priceTable();
  return {
    async listAgents({ c }) {
      const names = [...system.agents.keys()];
      const health = new Map(
        (
          await agentHealth(system.store, {
            agents: names,
            windowMs: 15 * 60_000,
            now: system.store.now(),
            versions: system.deployments,
          })
        ).map((h) => [h.agent, h]),
      );
      const agents = [...system.agents.values()].map((a) => {
        const h = health.get(a.name);
        return {
          name: a.name,
          responsibility: a.def.responsibility,
          tools: [...a.tools.keys()],
          tools_detail: a.def.tools.map((t) => ({ name: t.name, risk: t.risk, description: t.description })),
          delegates: [...a.def.delegates],
          version: a.version,
          concurrency: a.def.concurrency,
          queueDepth: h?.queueDepth ?? 0,
          versions: h?.versions ?? [],
          health: {
            status: h?.status ?? 'healthy',
            reasons: h?.reasons ?? [],
            windowMs: h?.windowMs ?? 0,
            successRate: h?.successRate ?? null,
            latencyMs: h?.latencyMs ?? { p50: null, p95: null },
            retryRate: h?.retryRate ?? null,
            denialRate: h?.denialRate ?? null,
            runs: h?.runs ?? {},
            versionsNotServed: h?.versionsNotServed ?? [],
          },
        };
      });
      return c.json({ agents });
    },

    async runGraph({ c, id, principal }) {
      await visibleRun(edge, principal, id);
      return c.json(await runGraph(system.store, id, prices));
    },

    async systemGraph({ c, query }) {
      const sinceMs = system.store.now() - parseDuration(query.since ?? '24h');
      return c.json(await windowGraph(system.store, { sinceMs, prices }));
    },

    async usage({ c, query }) {
      const since = query.since ?? '24h';
      const rows = await usageReport(system.store, {
        by: query.by,
        sinceMs: system.store.now() - parseDuration(since),
        prices,
      });
      return c.json({ by: query.by, since, rows });
    },
  };
}

/** What people act on: approvals to decide, and their own memory. */
function peopleHandlers(
  edge: Edge,
): Pick<Handlers, 'listApprovals' | 'decideApproval' | 'getMemory' | 'deleteMemory'> {
  const { system } = edge;
  return {
    async listApprovals({ c, query }) {
      const approvals = approvalsOf(system);
      if (!approvals) throw notEnabled('approvals', 'system.approvals is not configured');
      const list = await approvals.list({
        ...(query.status ? { status: query.status } : {}),
        ...(query.limit ? { limit: query.limit } : {}),
      });
      return c.json({ approvals: list });
    },

    async decideApproval({ c, id, body, principal }) {
      const approvals = approvalsOf(system);
      if (!approvals) throw notEnabled('approvals', 'system.approvals is not configured');
      if (!can.approve(principal)) throw new HttpError(403, 'forbidden', 'role may not approve');
      const decided = await approvals.decide(id, {
        decision: body.decision,
        approver: {
          id: principal.actorId,
          roles: principal.role === 'admin' ? ['admin', 'approver'] : [principal.role],
        },
        ...(body.comment !== undefined ? { comment: body.comment } : {}),
      });
      return c.json(decided as Record<string, unknown>);
    },

    async getMemory({ c, query, principal }) {
      const memory = memoryOf(system);
      if (!memory) throw notEnabled('memory endpoints', 'system.memory is not configured');
      const items = await memory.list({
        actorId: principal.actorId,
        ...(query.sessionId ? { sessionId: query.sessionId } : {}),
      });
      return c.json({ items });
    },

    async deleteMemory({ c, query, principal }) {
      const memory = memoryOf(system);
      if (!memory) throw notEnabled('memory endpoints', 'system.memory is not configured');
      const deleted = await memory.forget({
        actorId: principal.actorId,
        ...(query.sessionId ? { sessionId: query.sessionId } : {}),
      });
      return c.json({ deleted });
    },
  };
}

function routeHandlers(edge: Edge, options: HttpOptions): Handlers {
  const { system } = edge;
  const hooks = hookTable(system, options.webhooks ?? []);
  return {
    ...scheduleHandlers(system),
    ...deploymentHandlers(system),
    ...batchHandlers(edge),
    ...runHandlers(edge),
    ...insightHandlers(edge),
    ...peopleHandlers(edge),
    async status({ c }) {
      const { startedAt, source, reload } = edge.instance;
      return c.json({ version: edge.version, startedAt, source: source ?? null, reload: reload ?? null });
    },

    async me({ c, principal }) {
      return c.json({ actorId: principal.actorId, role: principal.role, plan: principal.plan });
    },

    async createWsTicket({ c, principal }) {
      const t = edge.auth.issueTicket(principal);
      return c.json({ ...t, url: `/v1/ws?ticket=${t.ticket}` }, 201);
    },

    async receiveWebhook({ c }) {
      return receiveHook(system, hooks, c, edge.limits.maxBodyBytes);
    },

    async health({ c }) {
      return c.json({ status: 'ok' });
    },

    async ready({ c }) {
      if (!options.ready()) return c.json({ error: { code: 'not_ready', message: 'draining' } }, 503);
      try {
        await system.store.runs.list({ limit: 1 });
      } catch {
        return c.json({ error: { code: 'not_ready', message: 'store unavailable' } }, 503);
      }
      return c.json({ status: 'ready' });
    },
  };
}

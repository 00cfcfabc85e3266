/**
 * The HTTP contract: zod schemas and the route table. The router validates requests with these
 * schemas and the OpenAPI document is generated from them, so the two cannot drift apart.
 */
import { z } from 'zod';
import { ScheduleTriggered, ScheduleViewSchema } from './schedule-schemas.ts';
import { RUN_STATUSES } from '../core/run-state.ts';
import { batchRoutes } from './batch-schemas.ts';
import { deploymentRoutes } from './deployment-schemas.ts';
import { ROLES, type Role } from './keys.ts';
import { MAX_ID_CHARS, MAX_INPUT_CHARS } from '../core/limits.ts';

/**
 * An id, as every store can look it up: no NUL (PostgreSQL text cannot hold it, so a lookup by it
 * fails instead of finding nothing).
 */
const id = z
  .string()
  .min(1)
  .max(MAX_ID_CHARS)
  .refine((v) => !v.includes('\u0000'), 'must not contain NUL');

/** The `:id` of a route: a run, approval or key id. */
export const PathId = id;

export const SubmitRunBody = z.strictObject({
  input: z.string().min(1).max(MAX_INPUT_CHARS).describe('What the user asks, in plain words'),
  sessionId: id.describe('Conversation the run belongs to; runs of one session run in order'),
  agent: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Skip routing and use this agent; `name@version` pins a version (operator or admin keys)'),
  version: z
    .string()
    .min(1)
    .max(40)
    .optional()
    .describe('Pin a published version of the agent (operator or admin keys; others get 403)'),
  clientMessageId: id
    .optional()
    .describe('Retries with the same id within 5 minutes return the original run'),
  wait: z.boolean().optional().describe('Answer with the finished run (bounded by the gateway wait timeout)'),
});

export const CancelRunBody = z.strictObject({ reason: z.string().min(1).max(500).optional() });

export const RunAccepted = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  deduplicated: z.boolean(),
});

export const Totals = z.object({
  steps: z.number(),
  modelCalls: z.number(),
  toolCalls: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  durationMs: z.number(),
});

export const RunError = z.object({
  name: z.string(),
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const Run = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  agent: z.string().nullable(),
  sessionId: z.string(),
  input: z.string().describe('the request'),
  output: z.string().optional(),
  error: RunError.optional(),
  escalation: z
    .object({ reason: z.string(), summary: z.string().optional(), by: z.string() })
    .optional()
    .describe('set while the run is escalated: a person now owns it (by agent, router or policy)'),
  totals: Totals,
  createdAt: z.number().describe('ms since epoch'),
  updatedAt: z.number(),
  lastSeq: z.number().describe('seq of the last journal event; resume event streams after it'),
});

export const RunSummary = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  agent: z.string().nullable(),
  sessionId: z.string(),
  actorId: z.string(),
  parentRunId: z.string().nullable(),
  summary: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export const ListRunsQuery = z.strictObject({
  sessionId: id.optional(),
  actorId: id
    .optional()
    .describe(
      'Operators and admins only: another actor (default: every actor for them, yourself for others)',
    ),
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export const EventsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional().describe('Only events with seq greater than this'),
});

export const JournalEventSchema = z.object({
  runId: z.string(),
  seq: z.number().int(),
  at: z.number(),
  v: z.number().int(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
});

export const AgentInfo = z.object({
  name: z.string(),
  responsibility: z.string(),
  tools: z.array(z.string()),
  delegates: z.array(z.string()),
  version: z.string(),
  concurrency: z.number(),
  queueDepth: z.number(),
  tools_detail: z.array(z.object({ name: z.string(), risk: z.string(), description: z.string() })),
  health: z.object({
    status: z.enum(['healthy', 'degraded', 'unhealthy']),
    reasons: z.array(z.string()),
    windowMs: z.number(),
    successRate: z.number().nullable(),
    latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
    retryRate: z.number().nullable(),
    denialRate: z.number().nullable(),
    runs: z.record(z.string(), z.number()),
    versionsNotServed: z.array(z.object({ version: z.string(), reason: z.string() })),
  }),
  /** Each version's figures over the window, side by side (telemetry/version-figures.ts). */
  versions: z.array(z.object({ version: z.string(), figures: z.record(z.string(), z.number().nullable()) })),
});

export const GraphQuery = z.strictObject({
  since: z
    .string()
    .regex(/^\d+(ms|s|m|h|d)$/)
    .optional()
    .describe('Window for the aggregate graph, e.g. 24h'),
});

export const UsageQuery = z.strictObject({
  by: z.enum(['agent', 'actor', 'model']).default('agent'),
  since: z
    .string()
    .regex(/^\d+(ms|s|m|h|d)$/)
    .optional()
    .describe('Window, e.g. 24h (default 24h)'),
});

export const Graph = z
  .object({
    nodes: z.array(z.record(z.string(), z.unknown())),
    edges: z.array(z.record(z.string(), z.unknown())),
  })
  .passthrough();

export const ReplayDivergence = z.object({
  runId: z.string().describe('The run where it diverges (the replayed run or one it delegated to)'),
  seq: z.number().int().describe('The recorded event at which the code would do something else'),
  step: z.number().int().describe('Agent step (model call number); 0 before the first model call'),
  kind: z.enum([
    'route',
    'agent',
    'tools-shown',
    'model-request',
    'model-response',
    'tool-call',
    'decision',
    'child',
  ]),
  agent: z.string().nullable(),
  message: z.string(),
  recorded: z.unknown().describe('What the journal recorded'),
  replayed: z.unknown().describe('What the code would do now'),
  diff: z.string().describe('recorded │ replayed, side by side, differing lines marked ≠'),
});

export const ReplayResult = z.object({
  runId: z.string(),
  matches: z.boolean().describe('The code takes every step the journal recorded, delegated runs included'),
  divergence: ReplayDivergence.nullable().describe('The first divergence, depth-first'),
  totals: z.object({
    runs: z.number(),
    divergences: z.number(),
    decisions: z.number(),
    modelOutputsServed: z.number(),
    modelCallsMade: z.number(),
    toolOutputsServed: z.number(),
  }),
  notes: z.array(z.string()).describe('Notes of the replayed runs (approvals served, changed agents, …)'),
  report: z.string().describe('The report `switchboard replay` prints, diff included'),
});

export const WsTicket = z.object({ ticket: z.string(), expiresAt: z.number(), url: z.string() });

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export const ApprovalsQuery = z.strictObject({
  status: z.enum(APPROVAL_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
export const DecideBody = z.strictObject({
  decision: z.enum(['approved', 'rejected']),
  comment: z.string().max(2000).optional(),
});

export const MemoryQuery = z.strictObject({ sessionId: id.optional() });

/**
 * A new key, as `POST /admin/keys` takes it and `switchboard keys create` checks its flags: one
 * schema for both, so the two accept exactly the same keys. `plans` are the configured plan names.
 */
export const createKeyBody = (plans: readonly string[]) =>
  z.strictObject({
    name: z
      .string()
      .trim()
      .min(1, 'is required')
      .refine((v) => [...v].length <= 100, 'is longer than 100 characters')
      .refine((v) => !v.includes('\u0000'), 'must not contain NUL')
      .describe('The principal (actor id) the key acts as'),
    role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
    plan: z
      .string()
      .refine((v) => plans.includes(v), `must be one of ${plans.join(', ')}`)
      .optional(),
  });

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const Health = z.object({ status: z.string() });

/** One route of the public API. */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Hono path syntax (`:id`). */
  path: string;
  operationId: string;
  summary: string;
  /** Roles allowed; absent means every authenticated role. `auth: false` routes are public. */
  roles?: Role[];
  auth?: boolean;
  /** True when `:id` names something owned by one actor (another actor gets 404). */
  ownerScoped?: boolean;
  body?: z.ZodType;
  /** A body that is not JSON (JSONL): its content types; `limit: 'batch'` is `batch.maxBodyBytes`. */
  rawBody?: { types: readonly string[]; limit: 'batch' };
  query?: z.ZodObject;
  /** Status → schema (absent schema: no JSON body; `jsonl`: the schema of each JSONL line). */
  responses: Record<number, { description: string; schema?: z.ZodType; sse?: boolean; jsonl?: boolean }>;
}

const err = (description: string) => ({ description, schema: ErrorBodySchema });
const common = {
  401: err('Missing, unknown or revoked API key'),
  429: err('Rate limit or daily quota exceeded; see Retry-After'),
};

/** Every route of the public listener. */
export const ROUTES = [
  {
    method: 'post',
    path: '/v1/runs',
    operationId: 'submitRun',
    summary: 'Submit a request; 202 with the run id, or the finished run with `wait: true`',
    body: SubmitRunBody,
    responses: {
      200: { description: 'Finished run (wait: true)', schema: Run },
      202: { description: 'Accepted', schema: RunAccepted },
      400: err('Invalid body; details.field names the field'),
      413: err('Body too large'),
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/runs',
    operationId: 'listRuns',
    summary: "The caller's runs, newest first (operators and admins: every actor's, or `actorId`'s)",
    query: ListRunsQuery,
    responses: { 200: { description: 'Runs', schema: z.object({ runs: z.array(RunSummary) }) }, ...common },
  },
  {
    method: 'get',
    path: '/v1/runs/:id',
    operationId: 'getRun',
    summary: 'A run',
    ownerScoped: true,
    responses: {
      200: { description: 'The run', schema: Run },
      404: err('No such run for this caller'),
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/runs/:id/events',
    operationId: 'runEvents',
    summary:
      'Journal events after `after`: a JSON array, or with `Accept: text/event-stream` a live SSE stream (resume with Last-Event-ID)',
    ownerScoped: true,
    query: EventsQuery,
    responses: {
      200: { description: 'Events', schema: z.array(JournalEventSchema), sse: true },
      404: err('No such run for this caller'),
      ...common,
    },
  },
  {
    method: 'post',
    path: '/v1/runs/:id/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run and the runs it delegated to',
    ownerScoped: true,
    body: CancelRunBody,
    responses: {
      200: { description: 'The run', schema: Run },
      404: err('No such run for this caller'),
      ...common,
    },
  },
  {
    method: 'post',
    path: '/v1/runs/:id/replay',
    operationId: 'replayRun',
    summary:
      "Re-execute a run from its journal (model and tool outputs served from the recording: no model call, no side effect) and compare the code's decisions",
    ownerScoped: true,
    responses: {
      200: { description: 'The verdict, the first divergence and the report', schema: ReplayResult },
      404: err('No such run for this caller'),
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/agents',
    operationId: 'listAgents',
    summary: 'The agent registry with health',
    responses: {
      200: { description: 'Agents', schema: z.object({ agents: z.array(AgentInfo) }) },
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/runs/:id/graph',
    operationId: 'runGraph',
    summary: 'The orchestration graph of a run (router → agents → tools → humans), delegated runs included',
    ownerScoped: true,
    responses: {
      200: { description: 'Graph', schema: Graph },
      404: err('No such run for this caller'),
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/graph',
    operationId: 'systemGraph',
    summary: 'The aggregate orchestration graph of the whole system over a window',
    roles: ['operator', 'admin'],
    query: GraphQuery,
    responses: { 200: { description: 'Graph', schema: Graph }, 403: err('Role may not read it'), ...common },
  },
  {
    method: 'get',
    path: '/v1/usage',
    operationId: 'usage',
    summary: 'Tokens and cost by agent, actor or model over a window',
    roles: ['operator', 'admin'],
    query: UsageQuery,
    responses: {
      200: {
        description: 'Usage rows',
        schema: z.object({
          by: z.string(),
          since: z.string(),
          rows: z.array(z.record(z.string(), z.unknown())),
        }),
      },
      403: err('Role may not read it'),
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/status',
    operationId: 'status',
    summary: 'The serving process: version, start time, configuration and its last `switchboard dev` reload',
    responses: {
      200: {
        description: 'The process',
        schema: z.object({
          version: z.string(),
          startedAt: z.number(),
          source: z.string().nullable(),
          reload: z.object({ generation: z.number(), reason: z.string(), at: z.number() }).nullable(),
        }),
      },
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/me',
    operationId: 'me',
    summary: 'Who the key acts as: actor, role and plan',
    responses: {
      200: {
        description: 'The principal',
        schema: z.object({ actorId: z.string(), role: z.string(), plan: z.string() }),
      },
      ...common,
    },
  },
  {
    method: 'post',
    path: '/v1/ws-ticket',
    operationId: 'createWsTicket',
    summary: 'A single-use ticket (30 s) to open /v1/ws?ticket=… from a browser',
    responses: { 201: { description: 'Ticket', schema: WsTicket }, ...common },
  },
  {
    method: 'get',
    path: '/v1/approvals',
    operationId: 'listApprovals',
    summary: 'Approvals, e.g. `?status=pending`',
    roles: ['approver', 'admin'],
    query: ApprovalsQuery,
    responses: {
      200: {
        description: 'Approvals',
        schema: z.object({ approvals: z.array(z.record(z.string(), z.unknown())) }),
      },
      403: err('Role may not approve'),
      501: err('Approvals are not enabled in this system'),
      ...common,
    },
  },
  {
    method: 'post',
    path: '/v1/approvals/:id',
    operationId: 'decideApproval',
    summary: 'Approve or reject',
    roles: ['approver', 'admin'],
    body: DecideBody,
    responses: {
      200: { description: 'Decided', schema: z.record(z.string(), z.unknown()) },
      403: err('Role may not approve'),
      404: err('No such approval'),
      409: err('Already decided'),
      501: err('Approvals are not enabled in this system'),
      ...common,
    },
  },
  {
    method: 'get',
    path: '/v1/memory',
    operationId: 'getMemory',
    summary: "The caller's short-term memory (optionally one session)",
    query: MemoryQuery,
    responses: {
      200: { description: 'Memory', schema: z.object({ items: z.array(z.unknown()) }) },
      501: err('Memory endpoints are not enabled in this system'),
      ...common,
    },
  },
  {
    method: 'delete',
    path: '/v1/memory',
    operationId: 'deleteMemory',
    summary: "Delete the caller's memory (optionally one session)",
    query: MemoryQuery,
    responses: {
      200: { description: 'Deleted', schema: z.object({ deleted: z.number() }) },
      501: err('Memory endpoints are not enabled in this system'),
      ...common,
    },
  },
  {
    method: 'post',
    path: '/v1/hooks/:name',
    operationId: 'receiveWebhook',
    summary:
      'A signed webhook delivery (no API key: webhook-id, webhook-timestamp and webhook-signature headers, docs/webhooks.md); 202 with the run, the first run again for a redelivered event id',
    auth: false,
    responses: {
      202: { description: 'Accepted (deduplicated: a redelivery)', schema: RunAccepted },
      400: err('Body is not JSON, or the input template rendered empty'),
      401: err('Missing, stale or wrong signature (code signature_missing / _stale / _invalid)'),
      404: err('No such webhook'),
      413: err('Body too large'),
    },
  },
  {
    method: 'get',
    path: '/v1/schedules',
    operationId: 'listSchedules',
    summary: 'The configured schedules: next 3 fire times, paused or not, recent slots and their runs',
    roles: ['operator', 'admin'],
    responses: {
      200: { description: 'Schedules', schema: z.object({ schedules: z.array(ScheduleViewSchema) }) },
      403: err('Role may not read it'),
      ...common,
    },
  },
  ...(['pause', 'resume'] as const).map((verb) => ({
    method: 'post' as const,
    path: `/v1/schedules/:name/${verb}` as const,
    operationId: `${verb}Schedule` as const,
    summary:
      verb === 'pause'
        ? 'Pause a schedule durably (kept across restarts, overrides the configuration)'
        : 'Resume a schedule from now on (slots while it was paused never fire)',
    roles: ['operator' as const, 'admin' as const],
    responses: {
      200: { description: 'The schedule', schema: ScheduleViewSchema },
      403: err('Role may not change it'),
      404: err('No such schedule'),
      ...common,
    },
  })),
  {
    method: 'post',
    path: '/v1/schedules/:name/trigger',
    operationId: 'triggerSchedule',
    summary: 'Fire one run of a schedule now (its own idempotency key, recorded with the slots)',
    roles: ['operator', 'admin'],
    responses: {
      202: { description: 'The run', schema: ScheduleTriggered },
      403: err('Role may not trigger it'),
      404: err('No such schedule'),
      ...common,
    },
  },
  ...batchRoutes(err, common),
  ...deploymentRoutes(err, common),
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness',
    auth: false,
    responses: { 200: { description: 'Alive', schema: Health } },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'ready',
    summary: 'Readiness: the store answers',
    auth: false,
    responses: { 200: { description: 'Ready', schema: Health }, 503: err('Not ready') },
  },
] as const satisfies readonly RouteSpec[];

export type RouteId = (typeof ROUTES)[number]['operationId'];

/** A zod failure as the field it names and a one-line message. */
export function describeIssue(error: z.ZodError, prefix = ''): { field: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { field: prefix || 'body', message: 'invalid' };
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path.map(String), ...(keys.length ? [keys[0]!] : [])].join('.');
  const field = [prefix, path].filter(Boolean).join('.') || 'body';
  const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  return { field, message };
}

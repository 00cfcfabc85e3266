/**
 * What the HTTP and WebSocket surfaces share: the system, authentication, usage metering, the
 * journal feed, open connections, and the optional services other modules add to the system.
 */
import type { HttpBindings } from '@hono/node-server';
import type { System } from '../system.ts';
import { can, type Authenticator, type Principal } from './auth.ts';
import type { Connections } from './connections.ts';
import { HttpError, notFound } from './errors.ts';
import type { RunFeed } from '../store/feed.ts';
import type { UsageCounter } from './plans.ts';
import type { RunRow } from '../store/ports.ts';
import type { TraceContext } from './net.ts';

/** The Hono environment of both listeners: the node bindings and what middleware sets per request. */
export type GatewayEnv = {
  Bindings: HttpBindings;
  Variables: { requestId: string; trace: TraceContext; principal?: Principal };
};

/** The part of `system.approvals` the gateway uses. */
export interface ApprovalsApi {
  list(query: {
    status?: 'pending' | 'approved' | 'rejected' | 'expired';
    limit?: number;
  }): Promise<unknown[]>;
  decide(
    approvalId: string,
    decision: {
      decision: 'approved' | 'rejected';
      approver: { id: string; roles: readonly string[] };
      comment?: string;
    },
  ): Promise<unknown>;
}

/** The part of `system.memory` (runtime/memory-api.ts `MemoryApi`) the gateway uses. */
export interface GatewayMemory {
  list(query: { actorId: string; sessionId?: string }): Promise<unknown[]>;
  forget(query: { actorId: string; sessionId?: string }): Promise<number>;
}

export interface GatewayLimits {
  /** Largest HTTP request body, bytes (413 beyond). */
  maxBodyBytes: number;
  /** Longest `wait: true`, ms; the run is returned as accepted when it is not done by then. */
  waitTimeoutMs: number;
  /** WebSocket frame and message limits, bytes (1009 beyond). */
  maxFrameBytes: number;
  maxMessageBytes: number;
  /** Bytes queued to one client before it is closed as a slow consumer (1013). */
  sendBufferBytes: number;
  /** Close a WebSocket with no message from the client for this long. */
  idleMs: number;
  /** Malformed messages tolerated on one connection before it is closed (1008). */
  maxAbuse: number;
  /** Runs followed plus sessions watched by one WebSocket connection. */
  maxSubscriptions: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxBodyBytes: 256 * 1024,
  waitTimeoutMs: 30_000,
  maxFrameBytes: 32 * 1024,
  maxMessageBytes: 128 * 1024,
  sendBufferBytes: 1024 * 1024,
  idleMs: 10 * 60_000,
  maxAbuse: 5,
  maxSubscriptions: 100,
};

/** `GET /v1/status`: the serving process, so a console can tell when `switchboard dev` reloaded it. */
export interface GatewayInstance {
  startedAt: number;
  /** The configuration file served, when there is one. */
  source?: string;
  /** Set by `switchboard dev`: the restart count (1 = first start) and what changed. */
  reload?: { generation: number; reason: string; at: number };
}

/** How the gateway drives batches (the configuration's `batch`, docs/batch.md). */
export interface BatchSettings {
  /** Largest fraction of an agent's concurrency a batch holds. */
  share: number;
  /** Most runs of one batch in flight. */
  concurrency: number;
  /** Largest `POST /v1/batches` body, bytes (413 beyond). */
  maxBodyBytes: number;
  /** The router queue's concurrency (runs submitted without an agent count against its share). */
  routerConcurrency?: number;
}

export interface Edge {
  system: System;
  /** Batch settings (`batch`: share, concurrency, body limit); the defaults when absent. */
  batch?: BatchSettings;
  auth: Authenticator;
  /** Plan counters: this process's, or shared by every replica (usage-postgres.ts). */
  usage: UsageCounter;
  feed: RunFeed;
  connections: Connections;
  limits: GatewayLimits;
  version: string;
  /** What this serving process is: when it started and, under `switchboard dev`, its last reload. */
  instance: GatewayInstance;
  onError: (error: unknown) => void;
  /** Emitted for observers (tests, metrics): 'slow-consumer', 'ws-open', 'ws-close'. */
  emit: (name: string, detail: Record<string, unknown>) => void;
}

/** The run, when `p` may see it; otherwise 404 (never 403: that would tell the run exists). */
export async function visibleRun(edge: Edge, p: Principal, runId: string): Promise<RunRow> {
  const row = await edge.system.store.runs.get(runId);
  if (!row || (row.actorId !== p.actorId && !can.readAll(p))) throw notFound(`run ${runId}`);
  return row;
}

/** Charge a request to the caller's plan; 429 with Retry-After when over. */
export async function charge(edge: Edge, p: Principal): Promise<void> {
  const a = await edge.usage.admit(p.keyId, p.plan);
  if (!a.ok) {
    throw new HttpError(
      429,
      a.reason,
      a.reason === 'rate_limited' ? 'rate limit exceeded' : 'daily quota exceeded',
      { headers: { 'Retry-After': String(a.retryAfterS) }, details: { retryAfter: a.retryAfterS } },
    );
  }
}

export const approvalsOf = (system: System): ApprovalsApi | undefined =>
  (system as System & { approvals?: ApprovalsApi }).approvals;

export const memoryOf = (system: System): GatewayMemory | undefined =>
  (system as System & { memory?: GatewayMemory }).memory;

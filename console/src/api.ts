/**
 * The console's only way to the system: the gateway's public `/v1` API with the signed-in API key.
 * Live updates come from the run's SSE stream (read with fetch, because EventSource cannot send an
 * Authorization header) and from the WebSocket API (opened with a single-use ticket).
 */
import type { JournalEvent } from '../../src/core/events.ts';

export type { JournalEvent };

export type Role = 'user' | 'approver' | 'operator' | 'admin';

/** An API failure with the gateway's error code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface RunSummary {
  runId: string;
  status: string;
  agent: string | null;
  sessionId: string;
  parentRunId: string | null;
  summary: string | null;
  createdAt: number;
  updatedAt: number;
  actorId?: string;
}

export interface Totals {
  steps: number;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  durationMs: number;
}

export interface Run {
  runId: string;
  status: string;
  agent: string | null;
  sessionId: string;
  /** The request, as submitted. */
  input: string;
  output?: string;
  error?: { name: string; code: string; message: string };
  /** Set while the run is escalated: a person now owns it. */
  escalation?: { reason: string; summary?: string; by: string };
  totals: Totals;
  createdAt: number;
  updatedAt: number;
  lastSeq: number;
}

/** `POST /v1/runs/:id/replay`: the verdict, the first divergence with its diff, and the report. */
export interface ReplayResult {
  runId: string;
  matches: boolean;
  divergence: null | {
    runId: string;
    seq: number;
    step: number;
    kind: string;
    agent: string | null;
    message: string;
    recorded: unknown;
    replayed: unknown;
    /** recorded │ replayed, side by side, differing lines marked ≠. */
    diff: string;
  };
  totals: {
    runs: number;
    divergences: number;
    decisions: number;
    modelOutputsServed: number;
    modelCallsMade: number;
    toolOutputsServed: number;
  };
  notes: string[];
  report: string;
}

export interface Approval {
  approvalId: string;
  runId: string;
  callId: string;
  tool: string;
  agent: string;
  args: unknown;
  reasons: string[];
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  status: string;
  approver: string | null;
  comment: string | null;
  decidedAt: number | null;
}

/** Health as `/v1/agents` reports it: a word (older gateways) or the telemetry health object. */
export type AgentHealthInfo =
  | string
  | {
      status: string;
      reasons: string[];
      successRate: number | null;
      latencyMs: { p50: number | null; p95: number | null };
      retryRate: number | null;
      denialRate: number | null;
      runs?: Record<string, number>;
    };

export interface AgentInfo {
  name: string;
  responsibility: string;
  tools: string[];
  tools_detail?: { name: string; risk: string; description: string }[];
  delegates: string[];
  version: string;
  concurrency: number;
  queueDepth: number;
  health: AgentHealthInfo;
  /** Each version's figures over the health window (gateways before deployments: absent). */
  versions?: VersionFiguresRow[];
}

/** One version's figures (src/telemetry/version-figures.ts), as the deployments API reports them. */
export interface VersionFigures {
  runs: number;
  finished: number;
  completed: number;
  failed: number;
  escalated: number;
  errorRate: number | null;
  toolErrorRate: number | null;
  escalationRate: number | null;
  denialRate: number | null;
  p95LatencyMs: number | null;
  costPerRun: number | null;
  tokensPerRun: number | null;
}

export interface VersionFiguresRow {
  version: string;
  figures: VersionFigures;
}

/** A published version (`GET /v1/versions`). */
export interface VersionView {
  agent: string;
  version: string;
  digest: string;
  labeled: boolean;
  source: string | null;
  createdAt: string;
  aliases: { alias: string; weight: number }[];
  inFlight: number;
  served: boolean;
  local: boolean;
}

/** An alias: integer weights over an agent's labeled versions (`GET /v1/aliases`). */
export interface AliasView {
  agent: string;
  alias: string;
  weights: Record<string, number>;
  implicit: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

export type DeploymentStatus = 'in_progress' | 'paused' | 'succeeded' | 'rolled_back' | 'failed';

export interface DeploymentStepView {
  at: string;
  weights: Record<string, number>;
  /** The figures behind the decision (new vs old), or null. */
  metrics: unknown;
  decision: string;
  reason: string;
}

/** One run of a shadow deployment's report (src/core/shadow-report.ts). */
export interface ShadowRunReport {
  liveRunId: string;
  shadowRunId: string;
  status: string;
  liveTools: string[];
  shadowTools: string[];
  divergentSteps: { step: number; tool: string; args: unknown; reason: string }[];
  liveAnswer: string | null;
  shadowAnswer: string | null;
  answersEqual: boolean;
  liveApprovals: number;
  shadowApprovalsNeeded: number;
  liveEscalated: boolean;
  shadowEscalated: boolean;
}

export interface ShadowReport {
  runs: number;
  divergent: number;
  answersDiffer: number;
  runsReport: ShadowRunReport[];
}

/** A deployment (`GET /v1/deployments[/:id]`). */
export interface DeploymentView {
  deploymentId: string;
  agent: string;
  alias: string;
  from: string;
  to: string;
  strategy: string;
  status: DeploymentStatus;
  steps: DeploymentStepView[];
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  shadow?: ShadowReport;
}

/** One schedule as `GET /v1/schedules` shows it (src/runtime/scheduler.ts ScheduleView). */
export interface ScheduleView {
  name: string;
  cron: string | null;
  every: string | null;
  timezone: string;
  agent: string | null;
  overlap: string;
  catchup: string;
  jitterMs: number;
  paused: boolean;
  pausedBy: 'config' | 'override';
  lastSlot: string | null;
  next: { slot: string; fireAt: string }[];
  slots: {
    key: string;
    slot: string;
    kind: string;
    status: string;
    runId: string | null;
    reason: string | null;
    at: string;
    runStatus: string | null;
  }[];
}

/** A batch as `GET /v1/batches[/:id]` shows it (docs/batch.md). */
export interface BatchView {
  batchId: string;
  status: 'running' | 'completed' | 'cancelled';
  owner: string;
  agent: string | null;
  origin: string;
  inputDigest: string;
  total: number;
  /** Records per status: pending, submitted, completed, failed, cancelled, escalated, invalid. */
  counts: Record<string, number>;
  createdAt: number;
  updatedAt: number;
}

/** One output row of a batch (`GET /v1/batches/:id/results`, JSONL). */
export interface BatchResultRow {
  id: string;
  runId: string | null;
  status: string;
  output: string | null;
  error: { code: string; message: string } | null;
  totals: Totals | null;
}

/** What the signed-in key may do, found by asking the gateway (there is no "who am I" route). */
export interface Abilities {
  role: Role;
  approve: boolean;
  /** Reads system-wide views (usage, aggregate graph): operator or admin. */
  operate: boolean;
}

const KEY_STORAGE = 'switchboard.apiKey';

export const storedKey = (): string | null => sessionStorage.getItem(KEY_STORAGE);
export const storeKey = (key: string | null): void =>
  key === null ? sessionStorage.removeItem(KEY_STORAGE) : sessionStorage.setItem(KEY_STORAGE, key);

/** A client of the gateway for one API key. */
export class Api {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${this.key}`);
    if (init.body !== undefined) headers.set('Content-Type', 'application/json');
    return fetch(path, { ...init, headers });
  }

  async #json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.#fetch(path, init);
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) {
      throw new ApiError(
        res.status,
        body.error?.code ?? 'error',
        body.error?.message ?? `${res.status} ${res.statusText}`,
      );
    }
    return body as T;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.#json<T>(path, signal ? { signal } : {});
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.#json<T>(path, { method: 'POST', body: JSON.stringify(body) });
  }

  /** A batch's output rows, read from its JSONL stream. */
  async batchResults(batchId: string, signal?: AbortSignal): Promise<BatchResultRow[]> {
    const res = await this.#fetch(
      `/v1/batches/${encodeURIComponent(batchId)}/results`,
      signal ? { signal } : {},
    );
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw new ApiError(res.status, body.error?.code ?? 'error', body.error?.message ?? `${res.status}`);
    }
    return (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as BatchResultRow);
  }

  /** The HTTP status of a GET, for probing what this key may do. */
  async status(path: string): Promise<number> {
    const res = await this.#fetch(path);
    await res.body?.cancel();
    return res.status;
  }

  /** Check the key and find out what it may do. */
  async abilities(): Promise<Abilities> {
    await this.get('/v1/agents');
    const [approvals, usage] = await Promise.all([
      this.status('/v1/approvals?status=pending&limit=1'),
      this.status('/v1/usage?since=1h'),
    ]);
    const approve = approvals === 200;
    const operate = usage === 200;
    const role: Role = approve && operate ? 'admin' : approve ? 'approver' : operate ? 'operator' : 'user';
    return { role, approve, operate };
  }

  /**
   * Follow a run's journal from `after`: every event, then live ones until the run ends or `signal`
   * aborts. Reconnects with the last seq it saw (the stream resumes exactly after it).
   */
  async follow(
    runId: string,
    after: number,
    onEvent: (e: JournalEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let last = after;
    while (!signal.aborted) {
      let ended = false;
      try {
        const res = await this.#fetch(`/v1/runs/${encodeURIComponent(runId)}/events?after=${last}`, {
          headers: { Accept: 'text/event-stream' },
          signal,
        });
        if (!res.ok || !res.body) throw new ApiError(res.status, 'stream', `event stream: ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const kind = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (kind === 'end' || kind === 'close') ended = true;
            if (kind !== 'message' || !data) continue;
            const e = JSON.parse(data) as JournalEvent;
            if (e.seq <= last) continue;
            last = e.seq;
            onEvent(e);
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
      }
      if (ended) return;
      // The stream dropped without an end: resume after a short pause.
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Open the WebSocket API with a single-use ticket. */
  async socket(): Promise<WebSocket> {
    const t = await this.post<{ url: string }>('/v1/ws-ticket', {});
    const url = new URL(t.url, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocket(url);
  }
}

export const fmt = {
  ms: (ms: number | null | undefined): string =>
    ms === null || ms === undefined
      ? '–'
      : ms < 1000
        ? `${Math.round(ms)} ms`
        : `${(ms / 1000).toFixed(1)} s`,
  usd: (x: number | null | undefined): string =>
    x === null || x === undefined ? '–' : x === 0 ? '$0' : x < 0.01 ? `$${x.toFixed(5)}` : `$${x.toFixed(2)}`,
  pct: (x: number | null | undefined): string =>
    x === null || x === undefined ? '–' : `${(x * 100).toFixed(0)}%`,
  time: (at: number): string => new Date(at).toLocaleTimeString(),
  int: (n: number): string => n.toLocaleString('en-US'),
};

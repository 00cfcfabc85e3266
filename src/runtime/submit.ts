/**
 * Submitting a run. Every run — root, delegated (runtime/tools.ts) or shadow (runtime/shadow.ts) —
 * gets its first commit from {@link submissionCommit}. A root run's request is checked,
 * deduplicated (a client message id per session, or a caller-wide idempotency key), journaled as
 * `run.submitted` with its first wake-up placed by session order, all in one commit. A version pin (`version`, or `agent: "name@version"`) is an
 * operator's act: a caller whose role is neither `operator` nor `admin` is refused.
 */
import type { Budget } from '../core/budget.ts';
import { ConflictError, PermissionError, UserError } from '../core/errors.ts';
import { EVENT_SCHEMA_VERSION, event, type EventPayloads } from '../core/events.ts';
import { newId } from '../core/ids.ts';
import { initialState, type RunStatus } from '../core/run-state.ts';
import { parseTraceparent } from '../core/trace-ids.ts';
import type { Commit, Store } from '../store/ports.ts';
import { sessionKey } from '../core/ids.ts';
import type { Faults } from './faults.ts';
import { projectRun } from './handle.ts';
import type { ToolHost } from './tool-host.ts';
import { parseAgentRef } from './versions.ts';
import { MAX_ID_CHARS, MAX_IDEMPOTENCY_KEY_CHARS, MAX_INPUT_CHARS } from '../core/limits.ts';

export interface SubmitRequest {
  actorId: string;
  sessionId: string;
  input: string;
  /** The agent to run (routing decides otherwise); `name@version` pins a version (operators only). */
  agent?: string;
  /** Pin a published version of the agent (operators only: `role` operator or admin, or no role). */
  version?: string;
  clientMessageId?: string;
  channel?: string;
  budget?: Partial<Budget>;
  /** An incoming W3C traceparent: the run's trace continues it. */
  traceparent?: string;
  /** The caller's role (the gateway passes its key's): policies may key on it (`callerRole`). */
  role?: string;
  /**
   * One run per key across every caller and process (a batch record, a schedule slot, a webhook
   * event id): a second submit with the key returns the first run (`deduplicated: true`). Kept for
   * `idempotencyTtlMs` (default 365 days), unlike `clientMessageId`'s short per-session window.
   */
  idempotencyKey?: string;
  idempotencyTtlMs?: number;
  /** Labels kept with the run (`run.submitted`), for the caller's bookkeeping; never sent to a model. */
  metadata?: Record<string, string>;
}

export interface SubmitResult {
  runId: string;
  status: RunStatus;
  /** True when a repeated client message id returned the existing run. */
  deduplicated: boolean;
}

export const nonEmpty = (value: unknown, field: string, max = MAX_ID_CHARS): string => {
  if (typeof value !== 'string' || value.trim() === '')
    throw new UserError(`${field} is required (a non-empty string)`, field);
  if (value.length > max) throw new UserError(`${field} is longer than ${max} characters`, field);
  return value;
};

/** The dedup key an {@link SubmitRequest.idempotencyKey} is kept under: `store.runs.dedup` finds its run. */
export const idempotencyDedupKey = (key: string): string => `idem\u0000${key}`;

/** How long an {@link SubmitRequest.idempotencyKey} answers with its first run. */
const IDEMPOTENCY_TTL_MS = 365 * 24 * 3600_000;

/** Roles that may pin a version; a library caller (no role) may too. */
const PIN_ROLES = new Set(['operator', 'admin']);

/** Metadata is a small map of strings: at most 32 keys, 200 characters a key, 2,000 a value. */
function checkMetadata(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UserError('metadata must be an object of strings', 'metadata');
  const entries = Object.entries(value);
  if (entries.length > 32) throw new UserError('metadata has more than 32 keys', 'metadata');
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new UserError(`metadata.${k.slice(0, 50)} must be a string`, 'metadata');
    nonEmpty(k, 'metadata key');
    if (v.length > 2_000)
      throw new UserError(`metadata.${k.slice(0, 50)} is longer than 2000 characters`, 'metadata');
  }
  return Object.fromEntries(entries);
}

/** Where a new run's first wake-up goes: behind its session (a root run), or straight onto a queue. */
export type Placement = { sessionKey: string; queue: string } | { queue: string };

/**
 * The commit that submits a run — root, delegated or shadow alike: its `run.submitted`, its
 * projection row and its first wake-up (joining its session's order, or on its queue at once).
 */
export function submissionCommit(
  runId: string,
  data: EventPayloads['run.submitted'],
  now: number,
  placement: Placement,
): Commit {
  const submitted = event('run.submitted', data);
  const state = initialState({ runId, seq: 1, at: now, v: EVENT_SCHEMA_VERSION, ...submitted });
  return {
    appends: [{ runId, expectedSeq: 1, events: [submitted] }],
    projection: [projectRun(state)],
    ...('sessionKey' in placement
      ? { session: { join: { sessionKey: placement.sessionKey, runId, queue: placement.queue } } }
      : { upsertTasks: [{ runId, queue: placement.queue, readyAt: now }] }),
  };
}

/** The agent and pinned version a request names, checked: known agent, known version, allowed pin. */
async function targetOf(engine: ToolHost, req: SubmitRequest): Promise<{ agent?: string; version?: string }> {
  if (req.agent === undefined && req.version === undefined) return {};
  const ref = typeof req.agent === 'string' ? parseAgentRef(req.agent) : undefined;
  const agent = ref?.agent;
  if (agent === undefined) throw new UserError('version: a pinned version needs the agent', 'version');
  if (!engine.agents.has(agent)) throw new UserError(`agent: unknown agent "${agent}"`, 'agent');
  if (ref?.version !== undefined && req.version !== undefined && ref.version !== req.version)
    throw new UserError(`version: "${req.version}" contradicts agent "${req.agent}"`, 'version');
  const version = req.version ?? ref?.version;
  if (version === undefined) return { agent };
  nonEmpty(version, 'version', 40);
  if (req.role !== undefined && !PIN_ROLES.has(req.role))
    throw new PermissionError('pinning an agent version needs the operator or admin role');
  if (!(await engine.selection.knows(agent, version)))
    throw new UserError(`version: agent "${agent}" has no labeled version "${version}"`, 'version');
  return { agent, version };
}

/** Submit a root run (system.submit). */
export async function submitRun(
  ctx: { store: Store; engine: ToolHost; faults: Faults; dedupWindowMs: number },
  req: SubmitRequest,
): Promise<SubmitResult> {
  const { store, engine } = ctx;
  const actorId = nonEmpty(req.actorId, 'actorId');
  const sessionId = nonEmpty(req.sessionId, 'sessionId');
  const input = nonEmpty(req.input, 'input', MAX_INPUT_CHARS);
  const { agent, version } = await targetOf(engine, req);
  const cmid =
    req.clientMessageId === undefined ? undefined : nonEmpty(req.clientMessageId, 'clientMessageId');
  const idem =
    req.idempotencyKey === undefined
      ? undefined
      : nonEmpty(req.idempotencyKey, 'idempotencyKey', MAX_IDEMPOTENCY_KEY_CHARS);
  const metadata = req.metadata === undefined ? undefined : checkMetadata(req.metadata);
  const key =
    idem !== undefined
      ? idempotencyDedupKey(idem)
      : cmid === undefined
        ? undefined
        : `${actorId}\u0000${sessionId}\u0000${cmid}`;
  const keyTtlMs = idem !== undefined ? (req.idempotencyTtlMs ?? IDEMPOTENCY_TTL_MS) : ctx.dedupWindowMs;
  const existing = async (): Promise<SubmitResult | null> => {
    const runId = key ? await store.runs.dedup(key, store.now()) : null;
    if (!runId) return null;
    const row = await store.runs.get(runId);
    return { runId, status: row?.status ?? 'queued', deduplicated: true };
  };
  const prior = await existing();
  if (prior) return prior;
  const runId = newId('run');
  const data: EventPayloads['run.submitted'] = {
    actorId,
    sessionId,
    input,
    channel: req.channel ?? 'api',
    ...(cmid !== undefined ? { clientMessageId: cmid } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(version !== undefined ? { version } : {}),
    lineage: [],
    depth: 0,
    budget: engine.budgetFor(agent, req.budget),
    ...(req.traceparent && parseTraceparent(req.traceparent) ? { traceparent: req.traceparent } : {}),
    ...(req.role !== undefined ? { role: req.role } : {}),
    ...(idem !== undefined ? { idempotencyKey: idem } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
  const now = store.now();
  const queue = await engine.selection.entryQueue(agent, version);
  try {
    // FIFO per session: the run gets its wake-up when it reaches the head of its session.
    await store.commit({
      ...submissionCommit(runId, data, now, { sessionKey: sessionKey(actorId, sessionId), queue }),
      ...(key ? { dedup: { key, runId, expiresAt: now + keyTtlMs } } : {}),
    });
  } catch (error) {
    // Lost a race with the same client message id: the other submit's run is the answer.
    if (error instanceof ConflictError && error.reason === 'duplicate' && key) {
      const winner = await existing();
      if (winner) return winner;
    }
    throw error;
  }
  ctx.faults.hit('afterSubmitCommit');
  return { runId, status: 'queued', deduplicated: false };
}

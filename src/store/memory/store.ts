/**
 * An in-memory store with the same semantics as the durable adapters (the same contract suite runs
 * against it). Nothing survives the process: use it for tests and benchmarks, never production.
 * Finished runs are kept up to a retention (`retention.finishedRuns`, default 1,000 run trees):
 * past it the oldest finished tree's journal, projection rows, approvals and dedup keys are
 * dropped, so a long-lived process holds what is in flight plus a bounded history.
 */
import type { JournalEvent } from '../../core/events.ts';
import {
  auditChain,
  GENESIS_HASH,
  type AuditChain,
  type AuditKeys,
  type RunHead,
  type StoredEvent,
} from '../../core/audit.ts';
import { systemClock, type Clock } from '../clock.ts';
import { Listeners } from '../listeners.ts';
import type { PolicyLedger } from '../ledger-port.ts';
import { createMemoryLedger } from './ledger.ts';
import type { BatchStore } from '../batch-port.ts';
import { createMemoryBatches } from './batches.ts';
import { createMemorySchedules } from './schedules.ts';
import type { DeploymentStore } from '../deployment-port.ts';
import { createMemoryDeployments } from './deployments.ts';
import { closes } from '../closed.ts';
import { applyCommitSync, type SyncCommitTx } from '../commit.ts';
import type {
  FactRow,
  FactStore,
  ApprovalRow,
  ApprovalsProjection,
  ClaimedTask,
  Commit,
  CommitResult,
  Journal,
  Queue,
  RunQuery,
  RunRow,
  RunsProjection,
  Store,
  StoreListener,
  TaskSpec,
} from '../ports.ts';
import { storedOpt, storedText } from '../text.ts';
import { ConfigError } from '../../core/errors.ts';
import type { RunStatus } from '../../core/run-state.ts';

/** Ended for good (an escalated run can still be reopened, so it is kept). */
const FINISHED: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled']);

// The stores' text rule (../text.ts): text columns hold well-formed Unicode, as SQLite and
// PostgreSQL would; JSON payloads (event data, approval args) keep every code unit.
const runText = (r: RunRow): RunRow => ({
  ...r,
  actorId: storedText(r.actorId),
  sessionId: storedText(r.sessionId),
  summary: storedOpt(r.summary),
  version: storedOpt(r.version ?? null),
});
const approvalText = (a: ApprovalRow): ApprovalRow => ({
  ...structuredClone(a),
  callId: storedText(a.callId),
  requestedBy: storedText(a.requestedBy),
  approver: storedOpt(a.approver),
  comment: storedOpt(a.comment),
});
const factText = (f: FactRow): FactRow => ({
  ...f,
  id: storedText(f.id),
  actorId: storedText(f.actorId),
  namespace: storedText(f.namespace),
  key: storedText(f.key),
  value: storedText(f.value),
  callId: storedOpt(f.callId),
});

interface TaskRow extends TaskSpec {
  owner: string | null;
  leaseExpiresAt: number | null;
  fence: number;
  attempts: number;
}

/** How much finished history the in-memory store keeps. */
export interface MemoryRetention {
  /**
   * Finished root runs kept, each with its delegated children (default 1,000; `Infinity` keeps
   * everything). A tree is dropped once its root and every child have ended, oldest first.
   */
  finishedRuns?: number;
}

export interface MemoryStoreOptions {
  clock?: Clock;
  audit?: AuditKeys;
  retention?: MemoryRetention;
}

/** The default `retention.finishedRuns`. */
export const DEFAULT_MEMORY_RETENTION = 1_000;

/** Create an in-memory store. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const finishedRuns = options.retention?.finishedRuns ?? DEFAULT_MEMORY_RETENTION;
  if (!(finishedRuns >= 0) || (!Number.isInteger(finishedRuns) && finishedRuns !== Infinity))
    throw new ConfigError('retention.finishedRuns', 'must be a non-negative integer or Infinity');
  return new MemoryStore(options.clock ?? systemClock, auditChain(options.audit), finishedRuns);
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly journal: Journal;
  readonly queue: Queue;
  readonly runs: RunsProjection;
  readonly approvals: ApprovalsProjection;
  readonly facts: FactStore;
  readonly chain: AuditChain;
  readonly ledger: PolicyLedger = createMemoryLedger();
  readonly batches: BatchStore = createMemoryBatches();
  readonly schedules = createMemorySchedules();
  readonly deployments: DeploymentStore = createMemoryDeployments();
  readonly #heads = new Map<string, RunHead>();
  readonly #facts = new Map<string, FactRow>();
  readonly #clock: Clock;
  readonly #stored = new Map<string, StoredEvent[]>();
  readonly #approvals = new Map<string, ApprovalRow>();
  readonly #listeners = new Listeners();
  readonly #events = new Map<string, JournalEvent[]>();
  readonly #tasks = new Map<string, TaskRow>();
  readonly #runs = new Map<string, RunRow>();
  readonly #sessions = new Map<string, { runId: string; queue: string }[]>();
  readonly #dedup = new Map<string, { runId: string; expiresAt: number }>();
  /** Retention: finished roots in the order they ended, and each run's children and dedup keys. */
  readonly #retain: number;
  readonly #finished = new Set<string>();
  readonly #children = new Map<string, string[]>();
  readonly #dedupKeys = new Map<string, string[]>();
  #fence = 0;

  constructor(clock: Clock, chain: AuditChain, retain = DEFAULT_MEMORY_RETENTION) {
    this.#clock = clock;
    this.chain = chain;
    this.#retain = retain;
    this.journal = {
      read: async (runId, afterSeq = 0, limit = -1) => {
        const all = (this.#events.get(runId) ?? []).slice(afterSeq);
        return limit >= 0 ? all.slice(0, limit) : all;
      },
      append: async (runId, expectedSeq, events) =>
        (await this.commit({ appends: [{ runId, expectedSeq, events }] })).events,
      runIds: async () => [...this.#events.keys()],
      rewrite: async (runId, events) => {
        const list = this.#events.get(runId) ?? [];
        const stored: StoredEvent[] = [];
        let prevHash = GENESIS_HASH;
        for (const e of events) {
          const i = e.seq - 1;
          if (list[i]) list[i] = structuredClone(e);
          const dataText = JSON.stringify(e.data);
          const hash = chain.link(prevHash, runId, e.seq, e.at, e.v, e.type, dataText);
          stored.push({ runId, seq: e.seq, at: e.at, v: e.v, type: e.type, dataText, prevHash, hash });
          prevHash = hash;
        }
        this.#stored.set(runId, stored);
        const last = stored.at(-1);
        if (last) this.#putHead(runId, last.seq, last.hash);
      },
      head: async (runId) => {
        const h = this.#heads.get(runId);
        return h ? { ...h } : null;
      },
      heads: async () => [...this.#heads.values()].map((h) => ({ ...h })),
      readStored: async (runId) => (this.#stored.get(runId) ?? []).map((e) => ({ ...e })),
    };
    const factKey = (f: { actorId: string; namespace: string; key: string }): string =>
      `${f.actorId}\u0000${f.namespace}\u0000${f.key}`;
    this.facts = {
      put: async (f) => {
        const row = factText(f);
        this.#facts.set(factKey(row), row);
      },
      list: async (actorId, now) =>
        [...this.#facts.values()]
          .filter((f) => f.actorId === storedText(actorId) && (f.expiresAt === null || f.expiresAt > now))
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
          .map((f) => structuredClone(f)),
      deleteActor: async (actorId) => {
        let n = 0;
        for (const [k, f] of this.#facts) if (f.actorId === storedText(actorId) && this.#facts.delete(k)) n++;
        return n;
      },
      sweep: async (now) => {
        let n = 0;
        for (const [k, f] of this.#facts)
          if (f.expiresAt !== null && f.expiresAt <= now && this.#facts.delete(k)) n++;
        return n;
      },
    };
    this.approvals = {
      get: async (id) => this.#approvals.get(id) ?? null,
      list: async (q) =>
        [...this.#approvals.values()]
          .filter(
            (a) =>
              (q.status === undefined || a.status === q.status) &&
              (q.runId === undefined || a.runId === q.runId),
          )
          .sort((a, b) => a.requestedAt - b.requestedAt || a.approvalId.localeCompare(b.approvalId))
          .slice(0, q.limit ?? 100),
    };
    this.queue = {
      enqueue: async (task) => {
        await this.commit({ upsertTasks: [task] });
      },
      claim: async (queue, owner, limit, leaseMs) => this.#claim(queue, owner, limit, leaseMs),
      extend: async (runId, fence, leaseMs) => {
        const t = this.#tasks.get(runId);
        if (!t || t.fence !== fence || t.owner === null) return false;
        t.leaseExpiresAt = this.now() + leaseMs;
        return true;
      },
      release: async (runId, fence, readyAt) => {
        const t = this.#tasks.get(runId);
        if (!t || t.fence !== fence) return;
        t.owner = null;
        t.leaseExpiresAt = null;
        if (readyAt !== undefined) t.readyAt = readyAt;
      },
      nextReadyAt: async (queue) => {
        let min: number | null = null;
        for (const t of this.#tasks.values()) {
          if (t.queue !== queue) continue;
          const at = t.owner === null ? t.readyAt : Math.max(t.readyAt, t.leaseExpiresAt ?? 0);
          if (min === null || at < min) min = at;
        }
        return min;
      },
      pendingRunIds: async () => new Set(this.#tasks.keys()),
      depth: async (queue) => [...this.#tasks.values()].filter((t) => t.queue === queue).length,
    };
    this.runs = {
      get: async (runId) => this.#runs.get(runId) ?? null,
      list: async (q) => this.#list(q),
      runnable: async () =>
        [...this.#runs.values()].filter((r) => {
          if (r.status !== 'queued' && r.status !== 'running') return false;
          for (const list of this.#sessions.values()) {
            const i = list.findIndex((e) => e.runId === r.runId);
            if (i > 0) return false;
          }
          return true;
        }),
      dedup: async (key, now) => {
        const d = this.#dedup.get(storedText(key));
        return d && d.expiresAt > now ? d.runId : null;
      },
    };
  }

  now(): number {
    return this.#clock.now();
  }

  listen(listener: StoreListener): () => void {
    return this.#listeners.add(listener);
  }

  async commit(unit: Commit): Promise<CommitResult> {
    const { events, woken, enqueued } = applyCommitSync(unit, this.#tx(this.now()));
    this.#listeners.appended(events);
    this.#listeners.enqueued(enqueued);
    if (this.#finished.size > this.#retain) this.#evict();
    return { events, woken };
  }

  /** Drops the oldest finished trees beyond the retention (a tree with a run still going waits). */
  #evict(): void {
    let excess = this.#finished.size - this.#retain;
    for (const root of this.#finished) {
      if (excess <= 0) return;
      const tree = [root];
      for (let i = 0; i < tree.length; i++) tree.push(...(this.#children.get(tree[i]!) ?? []));
      const going = tree.some((id) => {
        const status = this.#runs.get(id)?.status;
        return this.#tasks.has(id) || status === undefined || !FINISHED.has(status);
      });
      if (going) continue;
      this.#finished.delete(root);
      excess--;
      for (const id of tree) this.#forget(id);
    }
  }

  #forget(runId: string): void {
    this.#events.delete(runId);
    this.#stored.delete(runId);
    this.#heads.delete(runId);
    this.#runs.delete(runId);
    this.#children.delete(runId);
    for (const key of this.#dedupKeys.get(runId) ?? [])
      if (this.#dedup.get(key)?.runId === runId) this.#dedup.delete(key);
    this.#dedupKeys.delete(runId);
    for (const [id, a] of this.#approvals) if (a.runId === runId) this.#approvals.delete(id);
  }

  /** The commit primitives on the maps (../commit.ts checks everything before the first write). */
  #tx(now: number): SyncCommitTx {
    const session = (key: string): { runId: string; queue: string }[] =>
      this.#sessions.get(storedText(key)) ?? [];
    return {
      now,
      chain: this.chain,
      fence: (runId) => this.#tasks.get(runId)?.fence,
      lastSeq: (runId) => this.#events.get(runId)?.length ?? 0,
      tail: (runId) => {
        const last = this.#stored.get(runId)?.at(-1);
        return last && { seq: last.seq, hash: last.hash, type: last.type };
      },
      hasClosing: (runId) => closes(this.#events.get(runId) ?? []),
      claimDedup: (key, runId, expiresAt, at) => {
        const stored = storedText(key);
        const live = this.#dedup.get(stored);
        if (live && live.expiresAt > at) return false;
        this.#dedup.set(stored, { runId, expiresAt });
        const keys = this.#dedupKeys.get(runId);
        if (keys) keys.push(stored);
        else this.#dedupKeys.set(runId, [stored]);
        return true;
      },
      insertEvents: (runId, _expectedSeq, rows, events) => {
        const list = this.#events.get(runId) ?? [];
        this.#events.set(runId, list);
        const stored = this.#stored.get(runId) ?? [];
        this.#stored.set(runId, stored);
        for (const e of events) list.push(structuredClone(e));
        stored.push(...rows);
      },
      putHead: (runId, seq, hash) => this.#putHead(runId, seq, hash),
      deleteTasks: (runIds) => {
        for (const runId of runIds) this.#tasks.delete(runId);
      },
      dropDedup: (runIds) => {
        const drop = new Set(runIds);
        for (const [k, d] of this.#dedup) if (drop.has(d.runId)) this.#dedup.delete(k);
      },
      upsertTask: (t) => this.#upsert(t),
      project: (r) => {
        const old = this.#runs.get(r.runId);
        if (old && r.lastSeq < old.lastSeq) return;
        this.#runs.set(r.runId, { ...runText(r), createdAt: old?.createdAt ?? r.createdAt });
        if (!old && r.parentRunId !== null) {
          const siblings = this.#children.get(r.parentRunId);
          if (siblings) siblings.push(r.runId);
          else this.#children.set(r.parentRunId, [r.runId]);
        }
        if (r.parentRunId === null && FINISHED.has(r.status)) this.#finished.add(r.runId);
      },
      approval: (a) => {
        this.#approvals.set(a.approvalId, approvalText(a));
      },
      // One process, no await inside a unit: nothing can interleave.
      lockSession: () => {},
      joinSession: (key, runId, queue) => {
        const list = session(key);
        this.#sessions.set(storedText(key), list);
        list.push({ runId, queue });
      },
      leaveSession: (key, runId) => {
        const list = session(key);
        const i = list.findIndex((e) => e.runId === runId);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#sessions.delete(storedText(key));
      },
      sessionHead: (key) => session(key)[0],
    };
  }

  async close(): Promise<void> {}

  #putHead(runId: string, seq: number, hash: string): void {
    this.#heads.set(runId, { runId, seq, hash, seal: this.chain.seal(runId, seq, hash) });
  }

  #upsert(t: TaskSpec): void {
    const old = this.#tasks.get(t.runId);
    this.#tasks.set(t.runId, {
      ...t,
      owner: null,
      leaseExpiresAt: null,
      fence: old?.fence ?? 0,
      attempts: old?.attempts ?? 0,
    });
  }

  #claim(queue: string, owner: string, limit: number, leaseMs: number): ClaimedTask[] {
    const now = this.now();
    const ready = [...this.#tasks.values()]
      .filter(
        (t) => t.queue === queue && t.readyAt <= now && (t.owner === null || (t.leaseExpiresAt ?? 0) <= now),
      )
      .sort((a, b) => a.readyAt - b.readyAt)
      .slice(0, Math.max(0, limit));
    return ready.map((t) => {
      t.owner = owner;
      t.leaseExpiresAt = now + leaseMs;
      t.fence = ++this.#fence;
      t.attempts += 1;
      return {
        runId: t.runId,
        queue,
        readyAt: t.readyAt,
        owner,
        fence: t.fence,
        leaseExpiresAt: t.leaseExpiresAt,
        attempts: t.attempts,
      };
    });
  }

  #list(q: RunQuery): RunRow[] {
    return [...this.#runs.values()]
      .filter(
        (r) =>
          (q.actorId === undefined || r.actorId === storedText(q.actorId)) &&
          (q.sessionId === undefined || r.sessionId === storedText(q.sessionId)) &&
          (q.status === undefined || r.status === q.status) &&
          (q.parentRunId === undefined || r.parentRunId === q.parentRunId) &&
          (q.agent === undefined || r.agent === q.agent) &&
          (q.version === undefined || r.version === storedText(q.version)) &&
          (q.createdAfter === undefined || r.createdAt >= q.createdAfter),
      )
      .sort((a, b) => b.createdAt - a.createdAt || b.runId.localeCompare(a.runId))
      .slice(0, q.limit ?? 100);
  }
}

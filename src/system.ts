/**
 * The composition root: the one place that wires a configuration into a running system — store,
 * agents, router, workers, sweeper. Everything else receives its dependencies.
 */
import { newId } from './core/ids.ts';
import { join } from 'node:path';
import { ConflictError, NotFoundError, UserError } from './core/errors.ts';
import { event, type ErrorData, type JournalEvent, type Totals } from './core/events.ts';
import { foldRun, totalsOf, TERMINAL_STATUSES, type RunState, type RunStatus } from './core/run-state.ts';
import { buildAgentSet, ROUTER_QUEUE } from './runtime/agents.ts';
import { defaultRetrievers } from './runtime/retrievers.ts';
import { lintAgents } from './core/lint.ts';
import { parsePolicies } from './core/policy.ts';
import { createScrubber, scrubThrown } from './core/scrub.ts';
import type { ChainVerdict } from './core/audit.ts';
import { approvalsApi, escalationsApi, verifyRun } from './runtime/approvals.ts';
import { defaultMemoryHooks, type MemoryConfig } from './memory/hooks.ts';
import { rememberTool } from './memory/facts.ts';
import { DeltaHub, type LiveText } from './runtime/deltas.ts';
import { followEvents } from './runtime/follow.ts';
import { CircuitBreakers } from './runtime/breakers.ts';
import { memoryApi, type MemoryApi } from './memory/api.ts';
import { formatLint } from './cli/lint.ts';
import { agentTarget, createRouter } from './routing/index.ts';
import { Engine } from './runtime/engine.ts';
import { submitRun, type SubmitRequest, type SubmitResult } from './runtime/submit.ts';
import { Announcer, publishedFirst, publishVersions } from './runtime/versions.ts';
import { createDeployments, type DeploymentsApi } from './runtime/deployments.ts';
import { shadowReportOf } from './runtime/shadow.ts';
import { noFaults, parseFaults } from './runtime/faults.ts';
import { projectRun } from './runtime/handle.ts';
import { WorkerPool } from './runtime/workers.ts';
import { schedulerOf, type Scheduler } from './runtime/scheduler.ts';
import { systemClock } from './store/clock.ts';
import type { RunQuery, RunRow, Store } from './store/ports.ts';
import { createSqliteStore } from './store/sqlite/store.ts';
import { checkAgents, DEFAULTS, type CompiledConfig } from './config.ts';
import { systemOptionsOf, type SystemOptions } from './system-options.ts';

export type { SystemOptions } from './system-options.ts';

export type { SubmitRequest, SubmitResult } from './runtime/submit.ts';
export { idempotencyDedupKey } from './runtime/submit.ts';

/** A run as callers see it. */
export interface RunView {
  runId: string;
  status: RunStatus;
  agent: string | null;
  actorId: string;
  sessionId: string;
  parentRunId: string | null;
  input: string;
  output?: string;
  error?: ErrorData;
  attention?: { callId: string; tool: string; reason: string };
  escalation?: { reason: string; summary?: string; by: string };
  totals: Totals;
  createdAt: number;
  updatedAt: number;
  lastSeq: number;
}

export type Resolution =
  | { callId: string; resolution: 'succeeded'; result?: unknown; by: string }
  | { callId: string; resolution: 'failed'; message?: string; by: string }
  | { callId: string; resolution: 'retry'; by: string };

export interface System {
  readonly store: Store;
  readonly engine: Engine;
  /** Human approval checkpoints: list pending requests, decide them. */
  readonly approvals: ReturnType<typeof approvalsApi>;
  /** Runs handed to people: reopen or close them. */
  readonly escalations: ReturnType<typeof escalationsApi>;
  /** Recompute a run's hash chain; names the first altered event. */
  /** Check a run's hash chain and head (`allowUnkeyed`: accept journals from before `audit.key`). */
  verify(runId: string, options?: { allowUnkeyed?: boolean }): Promise<ChainVerdict>;
  /** An actor's memory: read it, write facts, export it, forget it. */
  readonly memory: MemoryApi;
  /** Agent versions, aliases and deployments: canary, linear, shadow, rollback (docs/deployments.md). */
  readonly deployments: DeploymentsApi;
  /** The configured schedules: list, pause, resume, trigger, backfill (docs/schedules.md). */
  readonly schedules: Scheduler;
  /** Text deltas of a run's answer, once its model step is known to be the answer (live only, not journaled). */
  onAnswerDelta(runId: string, fn: (text: string) => void): () => void;
  /** A run's live text of both kinds: every model step's text as it arrives, and the answer (runtime/deltas.ts). */
  onLiveText(runId: string, fn: (d: LiveText) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
  submit(request: SubmitRequest): Promise<SubmitResult>;
  get(runId: string): Promise<RunView>;
  list(query?: RunQuery): Promise<RunRow[]>;
  /** Journal events after `after`, following live appends until the run ends (or `follow: false`). */
  events(
    runId: string,
    options?: { after?: number; follow?: boolean; signal?: AbortSignal },
  ): AsyncIterable<JournalEvent>;
  /** Resolves when the run reaches a terminal status (or needs attention, with `untilAttention`). */
  wait(runId: string, options?: { signal?: AbortSignal; untilAttention?: boolean }): Promise<RunView>;
  cancel(runId: string, options?: { by?: string; reason?: string }): Promise<RunView>;
  resolve(runId: string, resolution: Resolution): Promise<RunView>;
  /**
   * Re-enqueue active runs that have no wake-up; returns how many. A run whose agent is not in this
   * configuration fails with the reason; `startup` also checks the agent named at submission of
   * runs not routed yet (their journal is read: done once, when a process starts).
   */
  sweep(options?: { startup?: boolean }): Promise<number>;
  /** Rebuild the runs projection from the journal; returns how many runs. */
  rebuildProjection(): Promise<number>;
}

export { newId };

function viewOf(state: RunState, now: number): RunView {
  const sub = state.submitted;
  return {
    runId: state.runId,
    status: state.status,
    agent: state.agent ?? null,
    actorId: sub.actorId,
    sessionId: sub.sessionId,
    parentRunId: sub.parentRunId ?? null,
    input: sub.input,
    ...(state.output !== undefined ? { output: state.output } : {}),
    ...(state.error ? { error: state.error } : {}),
    ...(state.attention
      ? {
          attention: {
            callId: state.attention.callId,
            tool: state.attention.tool,
            reason: state.attention.reason,
          },
        }
      : {}),
    ...(state.escalation ? { escalation: state.escalation } : {}),
    totals: totalsOf(state, TERMINAL_STATUSES.has(state.status) ? state.updatedAt : now),
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    lastSeq: state.seq,
  };
}

/**
 * Create a system.
 * @example
 * const system = createSystem({ agents: [support, billing], model });
 * await system.start();
 * const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'Where is order 42?' });
 * console.log((await system.wait(runId)).output);
 */
export { systemOptionsOf };

export function createSystem(
  config: SystemOptions | CompiledConfig,
  overrides: Partial<SystemOptions> = {},
): System {
  const options: SystemOptions = {
    ...('compiled' in config ? systemOptionsOf(config) : config),
    ...overrides,
  };
  const clock = options.clock ?? systemClock;
  checkAgents(options.agents, options);
  const ownsStore = options.store === undefined;
  const dataDir = options.dataDir ?? DEFAULTS.store.dataDir;
  // PostgreSQL is opened by the caller (openProject does), so a SQLite process never loads pg.
  if (options.store === undefined && options.databaseUrl)
    throw new UserError(
      'createSystem: a PostgreSQL store.url needs a store: pass store: createPostgresStore({ url, schema }), or open the project with openProject(config)',
      'store',
    );
  const store = options.store ?? createSqliteStore({ path: join(dataDir, 'switchboard.db'), clock });
  // Agents that may `remember` get the built-in tool, bound to this store.
  const definitions = options.agents.map((a) =>
    a.memory?.remember ? { ...a, tools: [...a.tools, rememberTool(store, newId)] } : a,
  );
  const policies = parsePolicies(options.policies ?? []);
  const { agents, versions } = buildAgentSet(
    definitions,
    options.model,
    options.maxOutputTokens ?? DEFAULTS.modelSettings.maxOutputTokens,
    policies,
  );
  const memoryOptions = options.memory === false ? { enabled: false } : (options.memory ?? {});
  const retentionMs = memoryOptions.retentionMs ?? DEFAULTS.memory.retentionMs;
  const maxFacts = memoryOptions.maxFacts ?? DEFAULTS.memory.maxFacts;
  const memory: MemoryConfig = {
    enabled: memoryOptions.enabled ?? DEFAULTS.memory.enabled,
    k: memoryOptions.k ?? DEFAULTS.memory.k,
    retentionMs,
    maxFacts,
    hooks: { ...defaultMemoryHooks(store, { retentionMs, maxFacts }), ...memoryOptions.hooks },
  };
  const faults =
    typeof options.faults === 'object'
      ? options.faults
      : options.faults !== undefined
        ? parseFaults(options.faults)
        : noFaults;
  const router =
    options.router === false
      ? undefined
      : (options.router ??
        (agents.size > 1 && options.defaultAgent === undefined
          ? createRouter(
              [...agents.values()].map((a) => agentTarget(a.def)),
              options.routerThreshold !== undefined ? { threshold: options.routerThreshold } : {},
            )
          : undefined));
  const retrievers = options.retrievers ?? defaultRetrievers(agents, options.toolThreshold, versions);
  const deltas = new DeltaHub();
  const scrubber = createScrubber(options.secrets ?? []);
  const engine = new Engine({
    store,
    agents,
    versions,
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.defaultAgent ? { defaultAgent: options.defaultAgent } : {}),
    ...(router ? { router } : {}),
    retrievers,
    policies,
    approvalTtlMs: options.approvalTtlMs ?? DEFAULTS.limits.approvalTtlMs,
    approvalExpiry: options.approvalExpiry ?? DEFAULTS.limits.approvalExpiry,
    memory,
    deltas,
    ...(options.contextTokens !== undefined ? { contextTokens: options.contextTokens } : {}),
    breakers: new CircuitBreakers({
      threshold: options.breaker?.threshold ?? DEFAULTS.limits.breaker.threshold,
      cooldownMs: options.breaker?.cooldownMs ?? DEFAULTS.limits.breaker.cooldownMs,
    }),
    faults,
    random: options.random ?? Math.random,
    newId,
    poisonAttempts: options.poisonAttempts ?? DEFAULTS.limits.poisonAttempts,
    scrubber,
    // Policies over history count in the store's own database: atomic across every worker process.
    ledger: store.ledger,
  });
  const report = options.onError ?? ((error: unknown) => console.error('[switchboard]', error));
  const onError = (error: unknown): void => report(scrubThrown(scrubber, error));
  const pools = new Map<string, WorkerPool>();
  const owner = newId('worker');
  let unlisten: (() => void) | null = null;
  let sweeper: NodeJS.Timeout | null = null;
  const dedupWindowMs = options.dedupWindowMs ?? DEFAULTS.limits.dedupWindowMs;
  // The keys this process's workers serve (`name@version`, or a name): announced while running.
  const served: string[] = [];
  const announcer = new Announcer(store, owner, served, (e) => onError(e));
  // Versions are published once per process: at start, or before the first deployments call.
  let publishing: Promise<void> | null = null;
  const publish = (): Promise<void> =>
    (publishing ??= publishVersions(store, versions, options.deployments?.source ?? null).catch(
      (error: unknown) => {
        publishing = null;
        throw error;
      },
    ));
  const deploymentsApi = createDeployments({
    store,
    engine,
    ...(options.deployments ? { options: options.deployments } : {}),
    owner,
    newId,
    onError,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    servedLocally: () => served,
    shadowReport: (d) => shadowReportOf(store, d.deploymentId),
  });
  const deployments = publishedFirst(deploymentsApi, publish, ['start', 'stop']);
  const scheduler = schedulerOf(options, agents, store, (r) => system.submit(r), newId, onError);

  const fold = async (runId: string): Promise<RunState> => {
    const events = await store.journal.read(runId);
    if (events.length === 0) throw new NotFoundError(`run ${runId} not found`);
    return foldRun(events);
  };

  /**
   * End an active run with a terminal event (cancelled, or failed), its active children cancelled.
   * Returns the run as it is when it was already over.
   */
  const end = async (
    runId: string,
    terminal: (state: RunState) => ReturnType<typeof event>,
    children: { by: string; reason: string },
  ): Promise<RunView> => {
    for (;;) {
      const state = await fold(runId);
      if (TERMINAL_STATUSES.has(state.status)) return viewOf(state, store.now());
      const last = terminal(state);
      const after = foldRun([
        ...(await store.journal.read(runId)),
        { runId, seq: state.seq + 1, at: store.now(), v: 1, ...last },
      ]);
      const parts = engine.endParts(after);
      try {
        await store.commit({
          ...parts,
          appends: [{ runId, expectedSeq: state.seq + 1, events: [last] }, ...(parts.appends ?? [])],
          deleteTasks: [runId],
          projection: [projectRun(after)],
        });
      } catch (error) {
        if (error instanceof ConflictError) continue;
        throw error;
      }
      engine.forget(runId);
      for (const child of await store.runs.list({ parentRunId: runId })) {
        if (!TERMINAL_STATUSES.has(child.status)) await system.cancel(child.runId, children);
      }
      return viewOf(after, store.now());
    }
  };

  const system: System = {
    store,
    engine,
    approvals: approvalsApi(engine, store),
    escalations: escalationsApi(engine, store),
    verify: (runId, options) => verifyRun(store, runId, options),
    memory: memoryApi(store, engine, newId),
    schedules: scheduler,
    deployments,
    onAnswerDelta: (runId, fn) => deltas.subscribe(runId, (d) => d.kind === 'answer' && fn(d.text)),
    onLiveText: (runId, fn) => deltas.subscribe(runId, fn),

    async start() {
      const warn = options.onWarning ?? ((m: string) => console.warn(m));
      const findings = lintAgents(definitions).filter((f) => f.severity !== 'info');
      if (findings.length) warn(formatLint(findings));
      // Every process publishes the versions it is configured with (a label is immutable).
      await publish();
      const wanted = options.workers ?? true;
      if (wanted !== false) {
        const only = wanted === true ? null : new Set(wanted.agents);
        const queues: [string, number][] = [
          [ROUTER_QUEUE, options.routerConcurrency ?? DEFAULTS.limits.routerConcurrency],
        ];
        for (const a of versions.values())
          if (!only || only.has(a.name) || only.has(a.key)) {
            queues.push([a.queue, a.def.concurrency]);
            served.push(a.key);
          }
        for (const [queue, concurrency] of queues) {
          const pool = new WorkerPool(engine, store, {
            queue,
            concurrency,
            owner,
            leaseMs: options.leaseMs ?? DEFAULTS.limits.leaseMs,
            pollMs: options.pollMs ?? DEFAULTS.limits.pollMs,
            errorRetryMs: options.errorRetryMs ?? DEFAULTS.limits.errorRetryMs,
            onError: (error) => onError(error),
          });
          pools.set(queue, pool);
        }
        unlisten = store.listen({ enqueued: (task) => pools.get(task.queue)?.kick() });
        // Recovery first: runs left active by a crash get their wake-ups back before workers claim.
        await system.sweep({ startup: true });
        await announcer.start();
        for (const pool of pools.values()) pool.start();
        deployments.start();
        const every = options.sweepIntervalMs ?? DEFAULTS.limits.sweepIntervalMs;
        sweeper = setInterval(() => {
          system.sweep().catch(onError);
        }, every);
        sweeper.unref();
        scheduler.start();
      }
    },

    async stop() {
      await scheduler.stop();
      await deployments.stop();
      if (served.length > 0) await announcer.stop().catch(onError);
      served.length = 0;
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      await Promise.all([...pools.values()].map((p) => p.stop()));
      pools.clear();
      unlisten?.();
      unlisten = null;
      if (ownsStore) await store.close();
    },

    submit: (req) => submitRun({ store, engine, faults, dedupWindowMs }, req),

    async get(runId) {
      return viewOf(await fold(runId), store.now());
    },

    list: (query = {}) => store.runs.list(query),

    events(runId, opts = {}) {
      return followEvents(
        store,
        runId,
        opts.after ?? 0,
        opts.follow ?? true,
        opts.signal,
        options.pollMs ?? DEFAULTS.limits.pollMs,
      );
    },

    async wait(runId, opts = {}) {
      let after = 0;
      for (;;) {
        for await (const e of system.events(runId, {
          after,
          ...(opts.signal ? { signal: opts.signal } : {}),
        })) {
          after = e.seq;
          if (opts.untilAttention && e.type === 'run.needs_attention') return system.get(runId);
        }
        const view = await system.get(runId);
        // A terminal event may be followed by more (an escalated run reopened): wait for the last word.
        if (TERMINAL_STATUSES.has(view.status) || opts.signal?.aborted) return view;
        after = Math.max(after, view.lastSeq - 1);
      }
    },

    cancel: (runId, opts = {}) =>
      end(
        runId,
        (state) =>
          event('run.cancelled', {
            reason: opts.reason ?? 'cancelled',
            by: opts.by ?? 'api',
            totals: totalsOf(state, store.now()),
          }),
        { by: opts.by ?? 'api', reason: 'parent run cancelled' },
      ),

    async resolve(runId, r) {
      for (;;) {
        const state = await fold(runId);
        if (state.status !== 'needs_attention' || state.attention?.callId !== r.callId) {
          throw new UserError(`run ${runId} has no in-doubt call ${r.callId} awaiting resolution`, 'callId');
        }
        const resumed = event('run.resumed', {
          callId: r.callId,
          resolution: r.resolution,
          by: r.by,
          ...(r.resolution === 'succeeded' ? { result: r.result ?? null } : {}),
          ...(r.resolution === 'failed' && r.message ? { message: r.message } : {}),
        });
        const after = foldRun([
          ...(await store.journal.read(runId)),
          { runId, seq: state.seq + 1, at: store.now(), v: 1, ...resumed },
        ]);
        try {
          await store.commit({
            appends: [{ runId, expectedSeq: state.seq + 1, events: [resumed] }],
            upsertTasks: [{ runId, queue: engine.queueOf(state.agent, state.version), readyAt: store.now() }],
            projection: [projectRun(after)],
          });
        } catch (error) {
          if (error instanceof ConflictError) continue;
          throw error;
        }
        engine.forget(runId);
        return viewOf(after, store.now());
      }
    },

    async sweep(opts = {}) {
      const pending = await store.queue.pendingRunIds();
      let n = 0;
      for (const row of await store.runs.runnable()) {
        const agent =
          row.agent ?? (opts.startup ? (await fold(row.runId)).submitted.agent : undefined) ?? null;
        // A run whose agent left the configuration (an edit under `switchboard dev`, a deploy)
        // cannot continue: it fails with the reason journaled instead of waiting forever.
        if (agent && !agents.has(agent)) {
          const message = `agent "${agent}" is no longer in the configuration; the run cannot continue`;
          await end(
            row.runId,
            (state) =>
              event('run.failed', {
                error: { name: 'ConfigError', code: 'config_error', message },
                totals: totalsOf(state, store.now()),
              }),
            { by: 'system', reason: 'parent run failed' },
          );
          continue;
        }
        if (pending.has(row.runId)) continue;
        // A run on a version this process does not serve waits on that version's queue: a worker
        // serving it takes it, and until one does it is reported (deployments.unserved()).
        const queue =
          row.agent && agents.has(row.agent)
            ? engine.queueOf(row.agent, row.version ?? undefined)
            : ROUTER_QUEUE;
        await store.queue.enqueue({ runId: row.runId, queue, readyAt: store.now() });
        n++;
      }
      // Retention: expired long-term facts go with the same sweep.
      await store.facts.sweep(store.now());
      return n;
    },

    async rebuildProjection() {
      const ids = await store.journal.runIds();
      for (const runId of ids) await store.commit({ projection: [projectRun(await fold(runId))] });
      return ids.length;
    },
  };
  return system;
}

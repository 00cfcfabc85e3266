/**
 * The composition root: the one place that wires a configuration into a running system — store,
 * agents, router, workers, sweeper. Everything else receives its dependencies.
 */
import { newId } from './core/ids.ts';
import { join } from 'node:path';
import { UserError } from './core/errors.ts';
import type { JournalEvent } from './core/events.ts';
import { applyEvent, initialState, TERMINAL_STATUSES, type RunState } from './core/run-state.ts';
import { buildAgentSet, ROUTER_QUEUE, type AgentRuntime } from './runtime/agents.ts';
import { createCoUsageLearner } from './runtime/co-usage.ts';
import { defaultRetrievers } from './runtime/retrievers.ts';
import { formatLint, lintAgents } from './core/lint.ts';
import { parsePolicies, type PolicyRule } from './core/policy.ts';
import { createScrubber, scrubThrown } from './core/scrub.ts';
import type { ChainVerdict } from './core/audit.ts';
import { verifyRun } from './runtime/approvals.ts';
import { defaultMemoryHooks, type MemoryConfig } from './memory/hooks.ts';
import { rememberTool } from './memory/facts.ts';
import { DeltaHub, type LiveText } from './runtime/deltas.ts';
import { followEvents, followRun } from './runtime/follow.ts';
import { CircuitBreakers } from './runtime/breakers.ts';
import { memoryApi, type MemoryApi } from './runtime/memory-api.ts';
// From the routing modules it needs, not routing/index.ts (which also loads embeddings and suites).
import { createRouter } from './routing/router.ts';
import { agentTarget } from './routing/targets.ts';
import { Engine, type EngineOptions } from './runtime/engine.ts';
import type { SubmitRequest, SubmitResult } from './runtime/submit.ts';
import { runCommands, viewOf, type RunCommands, type Resolution, type RunView } from './runtime/commands.ts';
import { Announcer, publishedFirst, publishVersions } from './runtime/versions.ts';
import { createDeployments, type DeploymentsApi } from './runtime/deployments.ts';
import { shadowReportOf } from './runtime/shadow.ts';
import { noFaults, parseFaults } from './runtime/faults.ts';
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
export type { RunView, Resolution } from './runtime/commands.ts';

/** How runs find their agent and tools: what replay and evaluation reuse to decide as the system does. */
export type RoutingView = Readonly<Pick<EngineOptions, 'router' | 'retrievers' | 'defaultAgent'>>;

export interface System {
  readonly store: Store;
  /** The configured agents by name (each at the version this configuration defines). */
  readonly agents: ReadonlyMap<string, AgentRuntime>;
  /** The router, tool retrievers and default agent runs are routed with. */
  readonly routing: RoutingView;
  /** The governance rules every tool call is admitted under (replay re-checks calls with them). */
  readonly policies: readonly PolicyRule[];
  /** Human approval checkpoints: list pending requests, decide them. */
  readonly approvals: RunCommands['approvals'];
  /** Runs handed to people: reopen or close them. */
  readonly escalations: RunCommands['escalations'];
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

const engines = new WeakMap<System, Engine>();

/**
 * @internal The engine behind a system, for tests that wire a runtime part by hand. Not part of
 * the public API: callers use the {@link System} methods.
 */
export function engineOf(system: System): Engine {
  const engine = engines.get(system);
  if (!engine) throw new UserError('engineOf: not a system made by createSystem', 'system');
  return engine;
}

/** The engine a configuration describes, over `store`, and the parts the system wires around it. */
function engineFor(options: SystemOptions, store: Store) {
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
  // Co-usage priors learned from the journal reach the default retrievers only (yours bring their own).
  const coUsage =
    options.coUsage && !options.retrievers
      ? createCoUsageLearner(store, options.coUsage === true ? {} : options.coUsage)
      : null;
  const retrievers =
    options.retrievers ??
    defaultRetrievers(agents, options.toolThreshold, versions, coUsage ? () => coUsage.priors() : undefined);
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
  return { engine, definitions, faults, deltas, scrubber, coUsage };
}

/**
 * This process's workers: a pool per queue it serves (the router's, and each served agent
 * version's), the periodic sweep, and the announcement of what it serves.
 */
function workersOf(
  options: SystemOptions,
  wiring: {
    engine: Engine;
    store: Store;
    owner: string;
    served: string[];
    sweep: (opts?: { startup?: boolean }) => Promise<number>;
    onError: (error: unknown) => void;
  },
) {
  const { engine, store, owner, served, onError } = wiring;
  const pools = new Map<string, WorkerPool>();
  const announcer = new Announcer(store, owner, served, (e) => onError(e));
  let unlisten: (() => void) | null = null;
  let sweeper: NodeJS.Timeout | null = null;
  return {
    /** Start serving (`workers` option: all agents, some, or none). Returns whether any started. */
    async start(): Promise<boolean> {
      const wanted = options.workers ?? true;
      if (wanted === false) return false;
      const only = wanted === true ? null : new Set(wanted.agents);
      const queues: [string, number][] = [
        [ROUTER_QUEUE, options.routerConcurrency ?? DEFAULTS.limits.routerConcurrency],
      ];
      for (const a of engine.versions.values())
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
      await wiring.sweep({ startup: true });
      await announcer.start();
      for (const pool of pools.values()) pool.start();
      return true;
    },

    /** Sweep every `sweepIntervalMs` while running (after the deployments driver has started). */
    startSweeper(): void {
      const every = options.sweepIntervalMs ?? DEFAULTS.limits.sweepIntervalMs;
      sweeper = setInterval(() => {
        wiring.sweep().catch(onError);
      }, every);
      sweeper.unref();
    },

    async stop(): Promise<void> {
      if (served.length > 0) await announcer.stop().catch(onError);
      served.length = 0;
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      await Promise.all([...pools.values()].map((p) => p.stop()));
      pools.clear();
      unlisten?.();
      unlisten = null;
    },
  };
}

export { systemOptionsOf };

/**
 * The fold `wait` keeps of the events it follows, so that its answer does not read and fold the
 * whole journal again. `view` is what `get` answers (the fold of the journal as stored), read only
 * from the events after those followed; it answers null — ask `get` — whenever that could differ:
 * events not followed from seq 1 in order, a journal that would not fold, a redacted journal (its
 * earlier events were rewritten), or data that JSON does not carry as is (a failed run's error
 * object, non-finite token counts): followed events may be the objects as appended, not as stored.
 */
class FollowedFold {
  #state: RunState | null = null;
  #exact = true;

  apply(e: JournalEvent): void {
    if (!this.#exact) return;
    // A repeat: `wait` follows again from the seq before the last when a run reopens.
    if (this.#state && e.seq <= this.#state.seq) return;
    try {
      if (e.type === 'run.redacted') this.#exact = false;
      else this.#state = this.#state ? applyEvent(this.#state, e) : initialState(e);
    } catch {
      this.#exact = false;
    }
  }

  async view(store: Store): Promise<RunView | null> {
    if (!this.#exact || !this.#state) return null;
    for (const e of await store.journal.read(this.#state.runId, this.#state.seq)) this.apply(e);
    const state = this.#state;
    if (
      !this.#exact ||
      state.error !== undefined ||
      !Number.isFinite(state.inputTokens) ||
      !Number.isFinite(state.outputTokens)
    )
      return null;
    return viewOf(state, store.now());
  }
}

/**
 * Create a system.
 * @example
 * const system = createSystem({ agents: [support, billing], model });
 * await system.start();
 * const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'Where is order 42?' });
 * console.log((await system.wait(runId)).output);
 */
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
      'createSystem: a PostgreSQL store.url needs a store: pass store: createPostgresStore({ url, schema }) (from switchboard-runtime/postgres), or open the project with openProject(config)',
      'store',
    );
  const store = options.store ?? createSqliteStore({ path: join(dataDir, 'switchboard.db'), clock });
  const { engine, definitions, faults, deltas, scrubber, coUsage } = engineFor(options, store);
  const report = options.onError ?? ((error: unknown) => console.error('[switchboard]', error));
  const onError = (error: unknown): void => report(scrubThrown(scrubber, error));
  const owner = newId('worker');
  const commands = runCommands({
    store,
    engine,
    faults,
    dedupWindowMs: options.dedupWindowMs ?? DEFAULTS.limits.dedupWindowMs,
  });
  // The keys this process's workers serve (`name@version`, or a name): announced while running.
  const served: string[] = [];
  const workers = workersOf(options, { engine, store, owner, served, sweep: commands.sweep, onError });
  // Versions are published once per process: at start, or before the first deployments call.
  let publishing: Promise<void> | null = null;
  const publish = (): Promise<void> =>
    (publishing ??= publishVersions(store, engine.versions, options.deployments?.source ?? null).catch(
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
  const scheduler = schedulerOf(options, engine.agents, store, (r) => system.submit(r), newId, onError);
  const { router, retrievers, defaultAgent } = engine.opts;
  const routing: RoutingView = {
    ...(router ? { router } : {}),
    ...(retrievers ? { retrievers } : {}),
    ...(defaultAgent !== undefined ? { defaultAgent } : {}),
  };

  const system: System = {
    store,
    agents: engine.agents,
    routing,
    policies: engine.opts.policies,
    approvals: commands.approvals,
    escalations: commands.escalations,
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
      if (!(await workers.start())) return;
      await coUsage?.start(onError);
      deployments.start();
      workers.startSweeper();
      scheduler.start();
    },

    async stop() {
      coUsage?.stop();
      await scheduler.stop();
      await deployments.stop();
      await workers.stop();
      if (ownsStore) await store.close();
    },

    submit: commands.submit,
    get: commands.get,
    list: (query = {}) => store.runs.list(query),

    events(runId, opts = {}) {
      const pollMs = options.pollMs ?? DEFAULTS.limits.pollMs;
      return followEvents(store, runId, opts.after ?? 0, opts.follow ?? true, opts.signal, pollMs);
    },

    async wait(runId, opts = {}) {
      let after = 0;
      const folded = new FollowedFold();
      const pollMs = options.pollMs ?? DEFAULTS.limits.pollMs;
      for (;;) {
        // What system.events follows, taken as callbacks: no promise per event.
        let attention = false;
        await followRun(store, runId, after, opts.signal, pollMs, (e) => {
          after = e.seq;
          if (opts.untilAttention && e.type === 'run.needs_attention') return (attention = true);
          folded.apply(e);
          return false;
        });
        if (attention) return system.get(runId);
        const view = (await folded.view(store)) ?? (await system.get(runId));
        // A terminal event may be followed by more (an escalated run reopened): wait for the last word.
        if (TERMINAL_STATUSES.has(view.status) || opts.signal?.aborted) return view;
        after = Math.max(after, view.lastSeq - 1);
      }
    },

    cancel: commands.cancel,
    resolve: commands.resolve,
    sweep: commands.sweep,
    rebuildProjection: commands.rebuildProjection,
  };
  engines.set(system, engine);
  return system;
}

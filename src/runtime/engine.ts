/**
 * The engine: `process(task)` folds a run's journal, decides the one next action, performs it,
 * appends its outcome and moves the run's wake-up — repeating while the run can go on at once on
 * this worker. Durability points: before a tool's side effect (`tool.started`), after its outcome,
 * before waiting, and at the end. Model calls are re-issued on recovery, so their events ride in
 * the next commit.
 */
import type { LanguageModelV4Content } from '@ai-sdk/provider';
import type { Budget } from '../core/budget.ts';
import { DEFAULT_BUDGET } from '../core/budget.ts';
import { ConflictError } from '../core/errors.ts';
import { createScrubber, type Scrubber } from '../core/scrub.ts';
import { event, type ErrorData } from '../core/events.ts';
import { chooseRoute } from '../core/decisions/route.ts';
import { retrieverOf, stepTools } from '../core/decisions/retrieval.ts';
import { parseModelOutput } from '../core/decisions/output.ts';
import type { AgentRouter, ToolRetriever } from '../core/routing-port.ts';
import type { PolicyRule } from '../core/policy.ts';
import type { AgentDefinition } from '../core/agent.ts';
import { memorySettings, type MemoryConfig } from '../memory/hooks.ts';
import { isResilient } from '../models/resilient.ts';
import { streamToResult } from '../models/stream.ts';
import type { DeltaHub } from './deltas.ts';
import type { CircuitBreakers } from './breakers.ts';
import { estimateTokens } from '../memory/short-term.ts';
import {
  decide,
  foldRun,
  applyEvent,
  totalsOf,
  type RunState,
  TERMINAL_STATUSES,
} from '../core/run-state.ts';
import type { ClaimedTask, Commit, Store } from '../store/ports.ts';
import type { PolicyLedger } from '../store/ledger-port.ts';
import { queueFor, type AgentRuntime } from './agents.ts';
import { endParts } from './end-parts.ts';
import { shadowMemory, shadowSpawnParts } from './shadow.ts';
import { VersionSelection } from './versions.ts';
import type { Faults } from './faults.ts';
import { RunHandle } from './handle.ts';
import { requestModel, retryRecorder } from './model-step.ts';
import { parkRun, PoisonCounter, storeUnavailable } from './poison.ts';
import { performCall, performInDoubt } from './tools.ts';
import { errorData } from './error-data.ts';

export interface EngineOptions {
  store: Store;
  /** The primary version per agent name (routing, budgets, memory settings). */
  agents: Map<string, AgentRuntime>;
  /** Every configured version by key (`name@label`, or `name` when unlabeled); default: `agents`. */
  versions?: Map<string, AgentRuntime>;
  budget?: Partial<Budget>;
  defaultAgent?: string;
  router?: AgentRouter;
  retrievers?: Map<string, ToolRetriever>;
  faults: Faults;
  random: () => number;
  newId: (prefix: string) => string;
  /** Most actions one claim performs before yielding the worker slot. */
  maxActionsPerClaim?: number;
  /** Governance rules evaluated before every tool call. */
  policies: PolicyRule[];
  /** How long an approval request stays open (default 72 h). */
  approvalTtlMs: number;
  /** What an expired approval means (default: rejected). */
  approvalExpiry: 'approved' | 'rejected';
  memory: MemoryConfig;
  /** Live text for subscribers (not journaled). */
  deltas?: DeltaHub;
  /** Context window of agents that set none (runtime/context-budget.ts). */
  contextTokens?: number;
  /** Per-tool circuit breakers of this worker process. */
  breakers?: CircuitBreakers;
  /** Identical failures in a row before a run is parked as poison (5). */
  poisonAttempts?: number;
  /** Scrubs secrets from every error before it is journaled (default: patterns only). */
  scrubber?: Scrubber;
  /** What policies over history count (store/ledger-port.ts); without one they fail closed. */
  ledger?: PolicyLedger;
}

export { errorData };

export class Engine {
  readonly opts: EngineOptions;
  readonly store: Store;
  readonly agents: Map<string, AgentRuntime>;
  readonly versions: Map<string, AgentRuntime>;
  /** Which version a run runs on, and which queue a new run waits on (runtime/versions.ts). */
  readonly selection: VersionSelection;
  /** Last folded state per run: a warm worker reads only newer events. */
  readonly #cache = new Map<string, RunState>();
  readonly #cacheLimit = 5000;
  readonly #poison: PoisonCounter;
  readonly #scrub: Scrubber;

  constructor(opts: EngineOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.agents = opts.agents;
    this.versions = opts.versions ?? new Map([...opts.agents.values()].map((a) => [a.key, a]));
    const names = [...opts.agents.keys()];
    const trivialAgent = opts.router
      ? undefined
      : (opts.defaultAgent ?? (names.length === 1 ? names[0] : undefined));
    this.selection = new VersionSelection({ ...opts, versions: this.versions, trivialAgent });
    this.#poison = new PoisonCounter(opts.poisonAttempts ?? 5);
    this.#scrub = opts.scrubber ?? createScrubber();
  }

  /**
   * An error as it may be journaled: configured secrets, bearer tokens and key-like strings scrubbed
   * (a provider that echoes its API key in a 401 must not put the key in the run's error).
   */
  errorOf(error: unknown): ErrorData {
    return this.#scrub.error(errorData(error));
  }

  /** The configured version a run executes with (undefined: not configured in this process). */
  agentOf(state: RunState): AgentRuntime | undefined {
    return this.selection.agentOf(state);
  }

  /** The queue a run of `agent` (on `version`) waits on. */
  queueOf(agent: string | undefined, version?: string): string {
    return queueFor(this.agents, agent, version);
  }

  budgetOf(state: RunState): Budget {
    return state.submitted.budget;
  }

  /** The budget a new run gets: system defaults, then the agent's overrides, then the caller's. */
  budgetFor(agent: string | undefined, override?: Partial<Budget>): Budget {
    const a = agent ? this.agents.get(agent)?.def.budget : undefined;
    return { ...DEFAULT_BUDGET, ...this.opts.budget, ...a, ...override };
  }

  /** Fold a run, reusing the cached state and reading only newer events. */
  async load(runId: string): Promise<RunState | null> {
    const cached = this.#cache.get(runId);
    if (cached) {
      const newer = await this.store.journal.read(runId, cached.seq);
      for (const e of newer) applyEvent(cached, e);
      return cached;
    }
    const events = await this.store.journal.read(runId);
    if (events.length === 0) return null;
    const state = foldRun(events);
    if (this.#cache.size >= this.#cacheLimit) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(runId, state);
    return state;
  }

  forget(runId: string): void {
    this.#cache.delete(runId);
  }

  /**
   * Advance a claimed run as far as it can go now. Conflicts mean another writer moved first. A run
   * whose advancing fails the same way `poisonAttempts` times in a row is parked (runtime/poison.ts).
   */
  async process(task: ClaimedTask, signal: AbortSignal): Promise<void> {
    const stuckAt = this.#poison.stuck.get(task.runId);
    if (stuckAt !== undefined) {
      if ((await this.store.runs.get(task.runId))?.lastSeq === stuckAt) {
        await this.store.commit({
          deleteTasks: [task.runId],
          fence: { runId: task.runId, fence: task.fence },
        });
        return;
      }
      this.#poison.stuck.delete(task.runId);
    }
    try {
      await this.#advance(task, signal);
      this.#poison.succeeded(task.runId);
    } catch (error) {
      if (storeUnavailable(this.store, error)) throw error;
      const data = this.errorOf(error);
      if (!this.#poison.failed(task.runId, data)) throw error;
      try {
        await parkRun(this, task, data, this.#poison.limit);
      } catch (parkError) {
        // Even parking failed: this process leaves the run alone and says so.
        const row = await this.store.runs.get(task.runId).catch(() => null);
        if (row) this.#poison.stuck.set(task.runId, row.lastSeq);
        throw new AggregateError(
          [error, parkError],
          `run ${task.runId} is poisoned and could not be parked`,
          {
            cause: parkError,
          },
        );
      }
    }
  }

  async #advance(task: ClaimedTask, signal: AbortSignal): Promise<void> {
    try {
      await this.#process(task, signal);
    } catch (error) {
      // A lost race: drop the cached fold; the journal says what really happened.
      this.#cache.delete(task.runId);
      if (!(error instanceof ConflictError)) throw error;
      const lost = error.reason === 'fenced';
      if (!lost) {
        // The run moved under us (a notification or a cancel); fold again and go on.
        await this.#process(task, signal).catch((again: unknown) => {
          this.#cache.delete(task.runId);
          if (!(again instanceof ConflictError)) throw again;
        });
      }
    }
  }

  async #process(task: ClaimedTask, signal: AbortSignal): Promise<void> {
    const loaded = await this.load(task.runId);
    if (!loaded) {
      await this.store.commit({ deleteTasks: [task.runId], fence: { runId: task.runId, fence: task.fence } });
      return;
    }
    // Work on a copy: the cache only ever holds committed state.
    const h = new RunHandle(this.store, structuredClone(loaded), task.fence);
    h.signal = signal;
    const startedTerminal = TERMINAL_STATUSES.has(loaded.status);
    const max = this.opts.maxActionsPerClaim ?? 64;
    for (let i = 0; i < max; i++) {
      if (signal.aborted) {
        await h.flush({ upsertTasks: [{ runId: h.runId, queue: task.queue, readyAt: this.store.now() }] });
        return this.#remember(h);
      }
      const done = await this.#step(h, task);
      if (done) return this.#remember(h);
      // A run that ended during this claim releases its session slot and its parent's wait.
      if (!startedTerminal && TERMINAL_STATUSES.has(h.state.status)) {
        await this.#finish(h, null);
        return this.#remember(h);
      }
    }
    // Yield the worker slot to other runs; the wake-up stays on this queue.
    await h.flush({ upsertTasks: [{ runId: h.runId, queue: task.queue, readyAt: this.store.now() }] });
    this.#remember(h);
  }

  #remember(h: RunHandle): void {
    if (TERMINAL_STATUSES.has(h.state.status)) this.#cache.delete(h.runId);
    else this.#cache.set(h.runId, h.state);
  }

  /** Perform one action; true when this claim is over. */
  async #step(h: RunHandle, task: ClaimedTask): Promise<boolean> {
    const state = h.state;
    const now = this.store.now();
    const action = decide(state, now, this.budgetOf(state));
    switch (action.kind) {
      case 'none':
        // Waiting (delegation, approval, a person) or finished: no wake-up until something happens.
        await h.flush({ deleteTasks: [h.runId] });
        return true;
      case 'route':
        return this.#route(h, task);
      case 'start-agent': {
        const agent = this.agentOf(state);
        if (!agent)
          return this.#finish(h, {
            kind: 'fail',
            error: { name: 'ConfigError', code: 'config_error', message: `unknown agent ${state.agent}` },
          });
        const { version, digest } = agent;
        h.emit(event('agent.started', { agent: agent.name, version, digest, occurredAt: this.store.now() }));
        await this.#loadMemory(h, agent.def);
        return false;
      }
      case 'model':
        await this.#callModel(h);
        return false;
      case 'complete':
        return this.#finish(h, action);
      case 'fail':
        return this.#finish(h, action);
      case 'escalate':
        // A delegated run escalated: so does this one (its end tells its own parent in turn).
        h.emit(
          event('run.escalated', {
            by: 'agent',
            agent: action.agent ?? state.agent ?? '',
            summary: action.summary,
            reason: action.reason,
          }),
        );
        return false;
      case 'sleep':
        await h.flush({ upsertTasks: [{ runId: h.runId, queue: task.queue, readyAt: action.until }] });
        return true;
      case 'call':
        await performCall(this, h, action.call, action.attempt);
        return false;
      case 'in-doubt':
        await performInDoubt(this, h, action.call);
        return false;
      case 'expire-approval': {
        const c = action.call;
        const outcome = this.opts.approvalExpiry;
        h.emit(
          event('approval.decided', {
            approvalId: c.approvalId ?? '',
            callId: c.call.callId,
            decision: 'expired',
            outcome,
            approver: 'system',
          }),
        );
        const row = await this.store.approvals.get(c.approvalId ?? '');
        if (row)
          h.include({
            approvals: [
              {
                ...row,
                status: 'expired',
                approver: 'system',
                decidedAt: now,
                comment: `expired: ${outcome}`,
              },
            ],
          });
        return false;
      }
    }
  }

  /**
   * onAgentStart: replay the session's last k turns and the agent's working state. Delegated runs
   * load nothing: what passes between agents is only the delegation's explicit context. A failure
   * is journaled and the run goes on stateless — never silently.
   */
  async #loadMemory(h: RunHandle, def: AgentDefinition): Promise<void> {
    const sub = h.state.submitted;
    if (sub.parentRunId) return;
    // A shadow run sees what its live run saw (runtime/shadow.ts), and persists nothing.
    if (sub.shadow) return shadowMemory(this, h);
    const m = this.opts.memory;
    const { enabled, k } = memorySettings(m, def);
    if (!enabled) {
      h.emit(event('memory.loaded', { turns: 0, tokens: 0, status: 'disabled' }));
      return;
    }
    try {
      const context = await m.hooks.onAgentStart({
        runId: h.runId,
        actorId: sub.actorId,
        sessionId: sub.sessionId,
        agent: def.name,
        input: sub.input,
        k,
      });
      const turns = context.turns.filter((t) => t.role === 'user').length;
      h.emit(event('memory.loaded', { turns, tokens: estimateTokens(context), status: 'ok', k, context }));
    } catch (error) {
      h.emit(event('memory.failed', { error: this.errorOf(error) }));
    }
  }

  /**
   * onMessage: the run's request and answer, as they are added (best effort; the journal holds
   * them). An agent with memory off persists nothing: no hook call, no `memory.persisted` — and
   * short-term memory replays only runs that say `memory.persisted`.
   */
  async #persistMemory(h: RunHandle, output: string): Promise<void> {
    const sub = h.state.submitted;
    const agent = h.state.agent ?? '';
    const { enabled, k } = memorySettings(this.opts.memory, this.agentOf(h.state)?.def);
    if (sub.parentRunId || sub.shadow || !enabled) return;
    const ctx = {
      runId: h.runId,
      actorId: sub.actorId,
      sessionId: sub.sessionId,
      agent,
      input: sub.input,
      k,
    };
    try {
      await this.opts.memory.hooks.onMessage(ctx, { role: 'user', text: sub.input });
      await this.opts.memory.hooks.onMessage(ctx, { role: 'assistant', text: output });
      h.emit(event('memory.persisted', { messages: 2 }));
    } catch (error) {
      h.emit(event('memory.failed', { error: this.errorOf(error) }));
    }
  }

  async #route(h: RunHandle, task: ClaimedTask): Promise<boolean> {
    const route = chooseRoute(h.state.submitted, {
      agentNames: [...this.agents.keys()],
      router: this.opts.router,
      defaultAgent: this.opts.defaultAgent,
    });
    if (route.kind === 'escalated') {
      h.emit(event('route.escalated', route.escalated));
      return this.#finish(h, null);
    }
    const decided = route.decided;
    // The agent is known: now its version (pinned, by the alias's weights, sticky per session).
    const choice = await this.selection.choose(h.state, decided.agent);
    h.emit(event('route.decided', { ...decided, ...choice }));
    const queue = this.queueOf(h.state.agent, h.state.version);
    if (queue !== task.queue) {
      // Hand the run to its version's queue: that agent's concurrency limit applies from here on.
      await h.flush({ upsertTasks: [{ runId: h.runId, queue, readyAt: this.store.now() }] });
      return true;
    }
    return false;
  }

  async #callModel(h: RunHandle): Promise<void> {
    const state = h.state;
    const agent = this.agentOf(state);
    if (!agent) throw new Error(`run ${state.runId}: unknown agent ${state.agent}`);
    const { retrieved, specs } = stepTools(
      agent.specs,
      state.turns,
      retrieverOf(this.opts.retrievers, agent),
      agent.def.toolRetrieval,
    );
    if (retrieved) h.emit(event('tools.retrieved', retrieved));
    // Fitted to the model's context window, or the run fails here with ContextBudgetError.
    const prompt = requestModel(this, h, agent, specs);
    if (!prompt) return;
    const started = performance.now();
    const live = this.opts.deltas?.step(h.runId, state.steps + 1);
    const attempts = retryRecorder(this, h);
    let content: LanguageModelV4Content[];
    let usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number };
    let finishReason: string;
    try {
      // Retries inside a resilient model are journaled with this step (they commit with its outcome).
      const model = isResilient(agent.model)
        ? agent.model.withHooks({ onRetry: attempts.onRetry })
        : agent.model;
      // Stream only when someone is watching this run live: deltas are not journaled, the final text is.
      const call = { prompt, tools: specs, maxOutputTokens: agent.maxOutputTokens };
      const result = live ? await streamToResult(model, call, live.text) : await model.doGenerate(call);
      content = result.content;
      usage = {
        inputTokens: result.usage.inputTokens.total ?? 0,
        outputTokens: result.usage.outputTokens.total ?? 0,
        ...(result.usage.inputTokens.cacheRead !== undefined
          ? { cachedInputTokens: result.usage.inputTokens.cacheRead }
          : {}),
      };
      finishReason = result.finishReason.unified;
    } catch (error) {
      h.emit(
        event('run.failed', {
          error: { ...this.errorOf(error), code: 'model_error' },
          totals: totalsOf(state, this.store.now()),
        }),
      );
      return;
    }
    this.opts.faults.hit('afterModelBeforeJournal');
    // Unparseable arguments are kept raw and flagged: the call is denied saying why.
    const { text, toolCalls } = parseModelOutput(content, finishReason, state.steps + 1);
    h.emit(
      event('model.responded', {
        modelId: agent.model.modelId,
        text,
        toolCalls,
        usage,
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
        finishReason,
        ...attempts.last(),
        occurredAt: this.store.now(),
      }),
    );
    // Only a step without tool calls is the answer: its text goes out as answer deltas now.
    live?.end(toolCalls.length === 0);
  }

  /**
   * End the run (or finish an already-terminal fold): the final event, the wake-up of whoever was
   * waiting on it (the parent run, the next run of the session), all in one commit.
   */
  async #finish(
    h: RunHandle,
    action: { kind: 'complete'; output: string } | { kind: 'fail'; error: ErrorData } | null,
  ): Promise<boolean> {
    const now = this.store.now();
    if (action?.kind === 'complete') {
      await this.#persistMemory(h, action.output);
      h.emit(event('run.completed', { output: action.output, totals: totalsOf(h.state, now) }));
    }
    if (action?.kind === 'fail')
      h.emit(event('run.failed', { error: action.error, totals: totalsOf(h.state, now) }));
    // A live run of a shadowed version may spawn its shadow run in the same commit (runtime/shadow.ts).
    const shadow = await shadowSpawnParts(this, h.state);
    if (shadow) h.include(shadow);
    this.opts.faults.hit('beforeFinalCommit');
    await h.flush({ deleteTasks: [h.runId], ...this.endParts(h.state) });
    return true;
  }

  /** What a run's end releases: its session slot, and its parent's wait (runtime/end-parts.ts). */
  endParts(state: RunState): Pick<Commit, 'session' | 'appends' | 'upsertTasks'> {
    return endParts(this.store, this.agents, state);
  }
}

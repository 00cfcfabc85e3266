/** What `createSystem` (src/system.ts) takes, and a compiled configuration turned into it. */
import type { DeploymentOptions } from './core/deployment.ts';
import type { CompiledConfig } from './config.ts';
import { UserError } from './core/errors.ts';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { AgentDefinition } from './core/agent.ts';
import type { Budget } from './core/budget.ts';
import type { AgentRouter, ToolRetriever } from './core/routing-port.ts';
import type { MemoryOptions } from './memory/hooks.ts';
import type { CoUsageOptions } from './runtime/co-usage.ts';
import type { Faults } from './runtime/faults.ts';
import type { Clock } from './store/clock.ts';
import type { Store } from './store/ports.ts';
import type { ScheduleConfig, ScheduleSpec } from './core/schedule.ts';

export interface SystemOptions {
  agents: AgentDefinition[];
  /** Default model of agents that name none. */
  model?: LanguageModelV4;
  /** Most tokens one model answer may have, for agents that set none (4096). */
  maxOutputTokens?: number;
  /** Context window of the model, in tokens, for agents that set none: prompts are fitted to it. */
  contextTokens?: number;
  /** Defaults to SQLite at `<dataDir>/switchboard.db`. */
  store?: Store;
  /** Defaults to `./.switchboard`. */
  dataDir?: string;
  /** A configured PostgreSQL URL: then `store` must be given (see {@link systemOptionsOf}). */
  databaseUrl?: string;
  defaultAgent?: string;
  /**
   * Picks the agent of runs submitted without one. By default (several agents, no `defaultAgent`)
   * a router fitted on the agents' responsibilities and examples: retrieval before reasoning.
   * `false` routes only to the default agent.
   */
  router?: AgentRouter | false;
  /** Tool retriever per agent name; by default one is fitted for each agent with `toolRetrieval.enabled`. */
  retrievers?: Map<string, ToolRetriever>;
  /** Governance rules (data): allow, require-approval or deny tool calls. Validated at creation. */
  policies?: unknown[];
  /** How long an approval request stays open, in ms (72 h). */
  approvalTtlMs?: number;
  /** What an approval that expires means (default: rejected). */
  approvalExpiry?: 'approved' | 'rejected';
  /**
   * Short-term memory (last k turns of the actor's session, working state) and long-term facts.
   * On by default with k = 5; `false` turns it off.
   */
  memory?: MemoryOptions;
  /** Per-tool circuit breakers: consecutive retryable failures to open (5), and the cooldown (30 s). */
  breaker?: { threshold?: number; cooldownMs?: number };
  /** Where start-up lint findings go (default: stderr). */
  onWarning?: (message: string) => void;
  budget?: Partial<Budget>;
  clock?: Clock;
  random?: () => number;
  /** Fault spec (see runtime/faults.ts). */
  faults?: string | Faults;
  leaseMs?: number;
  pollMs?: number;
  sweepIntervalMs?: number;
  /** Pause before retrying a run whose processing threw (a store or programming error), in ms. */
  errorRetryMs?: number;
  /** Consecutive identical failures of advancing a run before it is parked (5): never an endless loop. */
  poisonAttempts?: number;
  /**
   * Start workers for these agents only (all by default; `name@version` serves one version of an
   * agent); `false` for a gateway-only process.
   */
  workers?: boolean | { agents: string[] };
  /** Deployments: driver timing, alarms, validation, the source label of published versions (docs/deployments.md). */
  deployments?: DeploymentOptions;
  /** Dedup window for client message ids, in ms (5 minutes). */
  dedupWindowMs?: number;
  /** Workers of the router queue in this process (4). */
  routerConcurrency?: number;
  /** Router confidence below which a request is escalated (the router's default when absent). */
  routerThreshold?: number;
  /** Tool retriever score threshold of the default retrievers (the retriever's default when absent). */
  toolThreshold?: number;
  /**
   * Learn co-usage priors for the default retrievers from the journal's recent completed runs
   * (`true`: 500 runs, every 60 s); off by default (docs/routing.md).
   */
  coUsage?: boolean | CoUsageOptions;
  /** Reports errors of the workers and the sweeper, scrubbed of secrets first. */
  onError?: (error: unknown) => void;
  /**
   * Configured secret values (API keys, passwords): scrubbed, with bearer tokens and key-like
   * strings, from every error before it is journaled or reported. `openProject` passes the
   * credentials of its environment and store URL.
   */
  secrets?: readonly string[];
  /** Schedules (as configured, or compiled): evaluated by every process that runs workers. */
  schedules?: readonly (ScheduleConfig | ScheduleSpec)[];
  /** Longest pause between two evaluations of the schedules, in ms (1 s). */
  scheduleTickMs?: number;
}

/**
 * The system options of a compiled configuration whose agents are built (the CLI resolves an
 * `agents` factory first). Store and model objects come from the caller (src/project.ts opens them).
 */
export function systemOptionsOf(config: CompiledConfig): SystemOptions {
  if (!Array.isArray(config.agents))
    throw new UserError('createSystem: build the agents of a configuration factory first (openProject does)');
  const l = config.limits;
  return {
    agents: config.agents,
    ...(typeof config.model === 'object' ? { model: config.model } : {}),
    maxOutputTokens: config.modelSettings.maxOutputTokens,
    ...(config.modelSettings.contextTokens !== undefined
      ? { contextTokens: config.modelSettings.contextTokens }
      : {}),
    dataDir: config.store.dataDir,
    ...(config.store.url ? { databaseUrl: config.store.url } : {}),
    ...(config.defaultAgent !== undefined ? { defaultAgent: config.defaultAgent } : {}),
    ...(config.routing.router !== undefined ? { router: config.routing.router } : {}),
    ...(config.routing.retrievers ? { retrievers: config.routing.retrievers } : {}),
    ...(config.routing.threshold !== undefined ? { routerThreshold: config.routing.threshold } : {}),
    ...(config.routing.toolThreshold !== undefined ? { toolThreshold: config.routing.toolThreshold } : {}),
    ...(config.routing.coUsage !== undefined ? { coUsage: config.routing.coUsage } : {}),
    policies: config.policies,
    approvalTtlMs: l.approvalTtlMs,
    approvalExpiry: l.approvalExpiry,
    memory: config.memory,
    breaker: l.breaker,
    budget: config.budgets,
    ...(config.faults ? { faults: config.faults } : {}),
    leaseMs: l.leaseMs,
    pollMs: l.pollMs,
    sweepIntervalMs: l.sweepIntervalMs,
    errorRetryMs: l.errorRetryMs,
    poisonAttempts: l.poisonAttempts,
    dedupWindowMs: l.dedupWindowMs,
    routerConcurrency: l.routerConcurrency,
    schedules: config.schedules,
    deployments: config.deployments,
  };
}

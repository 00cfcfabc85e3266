/**
 * The configuration's types: what a project writes ({@link SwitchboardConfig}) and what compiling
 * it gives ({@link CompiledConfig}). The schema, defaults and compiler are in config.ts.
 */
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { AgentDefinition } from './core/agent.ts';
import type { Budget } from './core/budget.ts';
import type { DeploymentOptions, ResolvedDeploymentOptions } from './core/deployment.ts';
import type { PolicyRule } from './core/policy.ts';
import type { AgentRouter, ToolRetriever } from './core/routing-port.ts';
import type { MemoryHooks, MemoryOptions } from './memory/hooks.ts';
import type { CoUsageOptions } from './runtime/co-usage.ts';
import type { McpConfig } from './mcp/config.ts';
import type { Env } from './config-keys.ts';
import type { BatchSettings } from './telemetry/otel.ts';
import type { ScheduleConfig, ScheduleSpec } from './core/schedule.ts';
import type { JwtConfig, JwtInput, WebhookConfig, WebhookInput } from './gateway/inbound-config.ts';

/** The OTLP span batch (`OTEL_BSP_*`): telemetry/otel.ts's settings. */
export type OtlpBatchConfig = BatchSettings;

/** A usage plan as configured: `requestsPerMinute` is shorthand for `rate` + `burst`. */
export interface PlanConfig {
  requestsPerMinute?: number;
  /** Sustained requests per second. */
  rate?: number;
  /** Requests admitted at once (the bucket's size). */
  burst?: number;
  /** Requests per UTC day; `null` for none. */
  dailyQuota?: number | null;
  /** Open WebSocket connections per key. */
  maxConnections?: number;
}

/** What an `agents` factory is told about the process it runs in. */
export interface ConfigContext {
  /** The data directory (absolute). */
  dataDir: string;
  /** Where Switchboard's store is: business data of an example can follow it. */
  store: { kind: 'sqlite' } | { kind: 'postgres'; url: string; schema: string };
  /** `switchboard demo --reset`: recreate example data from its seed. */
  reset: boolean;
  /** The process environment (read it here, not from `process.env`). */
  env: Env;
  /** Run when the system stops (close a database the tools use). */
  onClose(fn: () => void | Promise<void>): void;
}

export type AgentsFactory = (ctx: ConfigContext) => AgentDefinition[] | Promise<AgentDefinition[]>;

/** The configuration a project writes. Every key is optional but `agents`. */
export interface SwitchboardConfig {
  /** The agents, or a function building them (when tools need a database opened per process). */
  agents: AgentDefinition[] | AgentsFactory;
  /** Runs submitted without an agent go here when there is no router. */
  defaultAgent?: string;
  /** Governance rules (data): allow, require-approval or deny tool calls. */
  policies?: PolicyRule[];
  /** `offline` (no LLM), `provider:model` (e.g. `openai:gpt-4o-mini`) or an AI SDK model object. */
  model?: string | LanguageModelV4;
  modelSettings?: {
    timeoutMs?: number;
    maxRetries?: number;
    requestsPerMinute?: number;
    /** Most tokens one model answer may have (`max_tokens`), default 4096; an agent may set its own. */
    maxOutputTokens?: number;
    /** The model's context window in tokens: prompts are fitted to it (none: not fitted). */
    contextTokens?: number;
  };
  store?: {
    /** Holds the SQLite files (and whatever else the project keeps per process). */
    dataDir?: string;
    /** `postgres://…`: every store on PostgreSQL, queues on pg-boss. */
    url?: string;
    schema?: string;
    poolSize?: number;
  };
  gateway?: {
    host?: string;
    port?: number;
    adminHost?: string;
    /** `false` for no private listener. */
    adminPort?: number | false;
    cors?: { origins: string[] };
    ip?: { public?: { allow?: string[]; deny?: string[] }; admin?: { allow?: string[]; deny?: string[] } };
    plans?: Record<string, PlanConfig>;
    /** `maxFailures` failed authentications per client address within `failureWindowMs` → 429. */
    auth?: {
      cacheMs?: number;
      revocationSweepMs?: number;
      maxFailures?: number;
      failureWindowMs?: number;
      /** Accept JWTs of one issuer beside API keys (docs/gateway.md). */
      jwt?: JwtInput;
    };
    limits?: {
      maxBodyBytes?: number;
      waitTimeoutMs?: number;
      maxFrameBytes?: number;
      maxMessageBytes?: number;
      sendBufferBytes?: number;
      idleMs?: number;
      maxAbuse?: number;
      /** Runs followed plus sessions watched by one WebSocket connection (default 100). */
      maxSubscriptions?: number;
    };
    heartbeatMs?: number;
    /** Serve the web console at `/` (default true). */
    console?: boolean;
  };
  routing?: {
    /** A router of your own, or `false` to route only to `defaultAgent`. */
    router?: AgentRouter | false;
    /** Router confidence below which a request is escalated instead of guessed. */
    threshold?: number;
    /** Tool retrievers by agent name (default: one per agent with `toolRetrieval.enabled`). */
    retrievers?: Map<string, ToolRetriever>;
    /** Score below which the tool retriever leaves a tool out (0 shows the best `topK` always). */
    toolThreshold?: number;
    /** Co-usage priors learned from the journal's completed runs (off; `true` for the defaults). */
    coUsage?: boolean | CoUsageOptions;
  };
  memory?: MemoryOptions;
  budgets?: Partial<Budget>;
  limits?: {
    leaseMs?: number;
    pollMs?: number;
    sweepIntervalMs?: number;
    errorRetryMs?: number;
    /** Consecutive identical failures of advancing a run before it is parked (a poison run). */
    poisonAttempts?: number;
    dedupWindowMs?: number;
    approvalTtlMs?: number;
    approvalExpiry?: 'approved' | 'rejected';
    breaker?: { threshold?: number; cooldownMs?: number };
    routerConcurrency?: number;
  };
  telemetry?: {
    serviceName?: string;
    /** OTLP/HTTP trace export. */
    otlp?: { endpoint?: string; tracesEndpoint?: string; batch?: OtlpBatchConfig };
    traces?: boolean;
    metrics?: boolean;
    logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    captureContent?: boolean;
    /** Model prices, USD per million tokens, merged over the built-in table. */
    prices?: Record<string, { input: number; output: number; cachedInput?: number }>;
  };
  /** Signed webhooks, each served at `POST /v1/hooks/<name>` (docs/webhooks.md). */
  webhooks?: WebhookInput[];
  /** Runs on a cron expression or an interval, exactly once per slot (docs/schedules.md). */
  schedules?: ScheduleConfig[];
  /**
   * Batches of runs from JSONL (docs/batch.md): `share` of each agent's concurrency a batch may
   * hold, `concurrency` runs in flight at most, `maxBodyBytes` for `POST /v1/batches`.
   */
  batch?: { share?: number; concurrency?: number; maxBodyBytes?: number };
  /** MCP servers whose tools agents may use (docs/mcp.md), or the path of a JSON file holding them. */
  mcp?: McpConfig | string;
  /** Named fault points for chaos tests (runtime/faults.ts). */
  faults?: string;
  /**
   * Tamper evidence (docs/governance.md): `key` makes the journal's hash chain and each run's head
   * HMACs; keys rotated out stay in `previousKeys` so older runs still verify.
   */
  audit?: { key?: string; previousKeys?: string[] };
  /**
   * Deployments (docs/deployments.md): the driver's tick and lease, runs needed before alarms judge,
   * alarm thresholds (`null` turns one off), pre/post-traffic validation, and the source label
   * (e.g. a git sha) recorded with each published version.
   */
  deployments?: DeploymentOptions;
}

/** A validated configuration with every default filled in. */
export interface CompiledConfig {
  readonly compiled: true;
  /** The file it came from, when it came from one. */
  source: string | null;
  agents: AgentDefinition[] | AgentsFactory;
  defaultAgent?: string;
  policies: PolicyRule[];
  model: string | LanguageModelV4;
  modelSettings: {
    timeoutMs?: number;
    maxRetries?: number;
    requestsPerMinute?: number;
    maxOutputTokens: number;
    contextTokens?: number;
  };
  store: { dataDir: string; url?: string; schema: string; poolSize: number };
  gateway: {
    host: string;
    port: number;
    adminHost?: string;
    adminPort: number | false;
    cors?: { origins: string[] };
    ip?: { public?: { allow?: string[]; deny?: string[] }; admin?: { allow?: string[]; deny?: string[] } };
    plans: Record<string, { rate: number; burst: number; dailyQuota: number | null; maxConnections: number }>;
    auth: {
      cacheMs: number;
      revocationSweepMs: number;
      maxFailures: number;
      failureWindowMs: number;
      jwt?: JwtConfig;
    };
    limits: NonNullable<NonNullable<SwitchboardConfig['gateway']>['limits']>;
    heartbeatMs: number;
    console: boolean;
  };
  routing: NonNullable<SwitchboardConfig['routing']>;
  memory: {
    enabled: boolean;
    k: number;
    retentionMs: number;
    maxFacts: number;
    hooks?: Partial<MemoryHooks>;
  };
  budgets: Budget;
  limits: {
    leaseMs: number;
    pollMs: number;
    sweepIntervalMs: number;
    errorRetryMs: number;
    poisonAttempts: number;
    dedupWindowMs: number;
    approvalTtlMs: number;
    approvalExpiry: 'approved' | 'rejected';
    breaker: { threshold: number; cooldownMs: number };
    routerConcurrency: number;
  };
  telemetry: {
    serviceName: string;
    otlp: { endpoint?: string; tracesEndpoint?: string; batch?: OtlpBatchConfig };
    traces: boolean;
    metrics: boolean;
    logLevel: string;
    captureContent: boolean;
    prices: Record<string, { input: number; output: number; cachedInput?: number }>;
  };
  webhooks: WebhookConfig[];
  schedules: ScheduleSpec[];
  batch: { share: number; concurrency: number; maxBodyBytes: number };
  mcp?: McpConfig;
  faults?: string;
  audit: { key?: string; previousKeys: string[] };
  /** Every default applied (DEFAULTS.deployments); a {@link DeploymentOptions} too. */
  deployments: ResolvedDeploymentOptions;
  /** Which keys an environment variable set (key → variable), for `doctor`. */
  fromEnv: Record<string, string>;
}

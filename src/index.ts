/**
 * Switchboard's public API. Everything a user imports comes from here (and `switchboard/testing`).
 */

// Defining agents and tools
export { defineTool, DEFAULT_RETRY, RISK_CLASSES } from './core/tool.ts';
export type {
  ToolDefinition,
  ToolOptions,
  ToolContext,
  RetryPolicy,
  RiskClass,
  ReconcileResult,
  AnyTool,
} from './core/tool.ts';
export { defineAgent, delegateToolName } from './core/agent.ts';
export type { AgentDefinition, AgentOptions, ToolRetrievalOptions } from './core/agent.ts';
export { DEFAULT_BUDGET } from './core/budget.ts';
export type { Budget } from './core/budget.ts';

// Errors
export {
  SwitchboardError,
  ConfigError,
  UserError,
  NotFoundError,
  ModelBehaviorError,
  ToolError,
  BudgetExceededError,
  ConflictError,
  JournalClosedError,
  CommitUnknownError,
  StoreClosedError,
} from './core/errors.ts';
export type { ConflictReason } from './core/errors.ts';

// The journal
export { EVENT_SCHEMA_VERSION, TERMINAL_EVENTS, CLOSING_EVENTS } from './core/events.ts';
export type {
  JournalEvent,
  NewEvent,
  EventType,
  EventPayloads,
  EventOf,
  Totals,
  ErrorData,
} from './core/events.ts';
export { foldRun, decide, TERMINAL_STATUSES } from './core/run-state.ts';
export type { RunState, RunStatus, NextAction } from './core/run-state.ts';
export type {
  AgentRouter,
  RouteDecision,
  RouteDecisionLike,
  ToolRetrieval,
  ToolRetriever,
  ToolRetrieverLike,
} from './core/routing-port.ts';

// Configuration and projects
export { defineConfig, compileConfig, DEFAULTS, ENV_KEYS } from './config.ts';
export type {
  SwitchboardConfig,
  CompiledConfig,
  CompileOptions,
  ConfigContext,
  AgentsFactory,
  PlanConfig,
} from './config.ts';
export { loadConfig, findConfig, openProject, CONFIG_FILES, ConfigMissingError } from './project.ts';
export type { Project, OpenOptions } from './project.ts';

// Running a system
export { createSystem, newId } from './system.ts';
export type {
  System,
  SystemOptions,
  SubmitRequest,
  SubmitResult,
  RunView,
  Resolution,
  RoutingView,
} from './system.ts';
export type { ScheduleConfig, ScheduleSpec, OverlapPolicy } from './core/schedule.ts';
export type { ScheduleView, BackfillResult } from './runtime/scheduler.ts';

// Stores
export { createSqliteStore } from './store/sqlite/store.ts';
export type { SqliteStoreOptions } from './store/sqlite/store.ts';
export { createMemoryStore, DEFAULT_MEMORY_RETENTION } from './store/memory/store.ts';
export type { MemoryStoreOptions, MemoryRetention } from './store/memory/store.ts';
export type {
  Store,
  Journal,
  Queue,
  RunsProjection,
  Commit,
  TaskSpec,
  ClaimedTask,
  RunRow,
  RunQuery,
} from './store/ports.ts';
export type { Clock } from './store/clock.ts';

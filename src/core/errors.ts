/**
 * Errors by fault. Every error Switchboard raises extends {@link SwitchboardError}; subclasses say
 * who is at fault and carry typed fields. HTTP mapping happens only at the gateway edge.
 */

/** Base of every Switchboard error; `name` is the concrete class name. */
export abstract class SwitchboardError extends Error {
  /** A stable machine-readable code, e.g. `budget_exceeded`. */
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value is wrong; `key` names it. */
export class ConfigError extends SwitchboardError {
  readonly code = 'config_error';
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.key = key;
  }
}

/** The caller sent something invalid; `field` names it when known. */
export class UserError extends SwitchboardError {
  readonly code = 'bad_request';
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** The principal may not do this (missing role, self-approval). */
export class PermissionError extends SwitchboardError {
  readonly code = 'forbidden';
}

/** A named thing (run, agent, approval) does not exist or is not visible to the caller. */
export class NotFoundError extends SwitchboardError {
  readonly code = 'not_found';
}

/** The model emitted something invalid: unknown tool, arguments failing the schema, malformed output. */
export class ModelBehaviorError extends SwitchboardError {
  readonly code = 'model_behavior';
}

/** A tool failed. `retryable` decides whether the retry policy applies. */
export class ToolError extends SwitchboardError {
  readonly code = 'tool_error';
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? true;
  }
}

/** A run exceeded one of its budgets; the run ends `failed` exactly at the limit. */
export class BudgetExceededError extends SwitchboardError {
  readonly code = 'budget_exceeded';
  readonly budget: string;
  readonly limit: number;
  readonly used: number;
  constructor(budget: string, limit: number, used: number) {
    super(`budget exceeded: ${budget} limit ${limit}, used ${used}`);
    this.budget = budget;
    this.limit = limit;
    this.used = used;
  }
}

/**
 * A model call's smallest prompt does not fit the model's context window, even with every memory
 * turn left out and every tool result cut to its minimum: the run fails before anything is sent.
 */
export class ContextBudgetError extends SwitchboardError {
  readonly code = 'context_budget';
  readonly agent: string;
  readonly contextTokens: number;
  /** Tokens the prompt may use (the window less the answer's room and the tokenizer allowance). */
  readonly limit: number;
  /** Tokens of the smallest prompt. */
  readonly needed: number;
  constructor(agent: string, contextTokens: number, limit: number, needed: number) {
    super(
      `context budget: the smallest prompt of agent ${agent} needs ${needed} tokens, more than the ${limit} its model's context of ${contextTokens} tokens leaves for a prompt`,
    );
    this.agent = agent;
    this.contextTokens = contextTokens;
    this.limit = limit;
    this.needed = needed;
  }
}

/**
 * Why a {@link ConflictError} was raised; callers branch on it, never on the message.
 * - `seq`: an append's expected seq was already taken (a lost race; refold and try again);
 * - `fenced`: the worker's lease was taken by another worker (its work is not its own any more);
 * - `moved`: a seq assertion failed: the run moved on since it was folded;
 * - `duplicate`: a live dedup key (client message id) already names another run;
 * - `closed`: the run's journal is closed ({@link JournalClosedError});
 * - `state`: the target is not in a state that allows the command (an approval already decided or
 *   expired, a run not escalated, arguments that differ from the request);
 * - `busy`: another deployment of the same agent and alias is active;
 * - `changed`: a compare-and-set kept losing to concurrent writers; trying again may succeed.
 */
export type ConflictReason =
  'seq' | 'fenced' | 'moved' | 'duplicate' | 'closed' | 'state' | 'busy' | 'changed';

/** A write lost to another writer or to the target's state; `reason` says which (HTTP 409). */
export class ConflictError extends SwitchboardError {
  readonly code = 'conflict';
  readonly reason: ConflictReason;
  /** The run (or deployment, or agent) the conflict is about. */
  readonly subject: string;
  /** For `seq`: the seq the append expected to take. */
  readonly expectedSeq: number | undefined;
  constructor(reason: ConflictReason, subject: string, message?: string, expectedSeq?: number) {
    super(
      message ??
        `conflicting append to run ${subject}${expectedSeq === undefined ? '' : ` at seq ${expectedSeq}`}`,
    );
    this.reason = reason;
    this.subject = subject;
    this.expectedSeq = expectedSeq;
  }
}

/**
 * A commit whose COMMIT was cut off (the connection dropped while it was sent): it may or may not
 * have applied, so it is never retried blindly; the journal says what happened.
 */
export class CommitUnknownError extends SwitchboardError {
  readonly code = 'commit_unknown';
  /** The unit, briefly: each append as `run@expectedSeq+events`. */
  readonly unit: string;
  constructor(unit: string, cause: unknown) {
    super(`commit outcome unknown: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.unit = unit;
  }
}

/** The store was closed: no more reads or writes through it (a shutdown in progress). */
export class StoreClosedError extends SwitchboardError {
  readonly code = 'store_closed';
  constructor() {
    super('store is closed');
  }
}

/** An append to a run whose journal is closed (it completed, failed or was cancelled). Not retried. */
export class JournalClosedError extends ConflictError {
  constructor(runId: string, message?: string) {
    super('closed', runId, message ?? `run ${runId} has ended: its journal is closed`);
  }
}

/**
 * What tool calls, shadow runs and run submission need of the engine, declared apart from it: the
 * engine implements this interface, and tools.ts, shadow.ts and submit.ts depend only on it, so no
 * module the engine imports imports the engine back.
 */
import type { Budget } from '../core/budget.ts';
import type { ErrorData } from '../core/events.ts';
import type { PolicyRule } from '../core/policy.ts';
import type { RunState } from '../core/run-state.ts';
import type { PolicyLedger } from '../store/ledger-port.ts';
import type { Store } from '../store/ports.ts';
import type { AgentRuntime } from './agents.ts';
import type { CircuitBreakers } from './breakers.ts';
import type { Faults } from './faults.ts';
import type { VersionSelection } from './versions.ts';

/** The engine's options that tool calls read. */
export interface ToolHostOptions {
  readonly policies: PolicyRule[];
  readonly ledger?: PolicyLedger | undefined;
  readonly newId: (prefix: string) => string;
  readonly approvalTtlMs: number;
  readonly breakers?: CircuitBreakers | undefined;
  readonly faults: Faults;
  readonly random: () => number;
}

/** The engine as tool calls, shadow runs and submissions see it. */
export interface ToolHost {
  readonly opts: ToolHostOptions;
  readonly store: Store;
  /** The primary version per agent name. */
  readonly agents: ReadonlyMap<string, AgentRuntime>;
  /** Which version a run runs on, and which queue a new run waits on. */
  readonly selection: VersionSelection;
  /** The configured version a run executes with (undefined: not configured in this process). */
  agentOf(state: RunState): AgentRuntime | undefined;
  /** An error as it may be journaled (secrets scrubbed). */
  errorOf(error: unknown): ErrorData;
  /** The budget a new run of `agent` gets. */
  budgetFor(agent: string | undefined, override?: Partial<Budget>): Budget;
}

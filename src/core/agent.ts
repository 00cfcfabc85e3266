import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { AnyTool } from './tool.ts';
import type { Budget } from './budget.ts';

/** Which of an agent's tools the model sees at each step. */
export interface ToolRetrievalOptions {
  /** Off by default for agents with fewer than 10 tools. */
  enabled: boolean;
  /** How many tools to show besides pinned ones. */
  topK: number;
  /** Tool names always shown. */
  pinned: string[];
}

/** A specialized agent: one responsibility, a few tools, its own queue and limits. */
export interface AgentDefinition {
  name: string;
  /**
   * A version label (`v2`, `2026-12-02.1`): two definitions with one name and different labels
   * are two versions of one agent, deployable by weight (docs/deployments.md). Without a label
   * the agent's version is its content digest and it is not deployable by weight.
   */
  version?: string;
  /** One sentence: the business responsibility. Routing and lint use it. */
  responsibility: string;
  instructions: string;
  /** The model this agent runs on; the system default when absent. */
  model?: LanguageModelV4;
  /**
   * Most tokens one model answer may have (sent as `max_tokens`); the system's
   * `modelSettings.maxOutputTokens` (4096) when absent. Without a cap a model that never stops
   * runs until its context is full.
   */
  maxOutputTokens?: number;
  /**
   * The context window of this agent's model, in tokens; the system's `modelSettings.contextTokens`
   * when absent. Prompts are fitted to it before they are sent (docs/models.md, "Context budget").
   */
  contextTokens?: number;
  tools: AnyTool[];
  /** Names of agents this agent may delegate to (each becomes a `delegate_to_<name>` tool). */
  delegates: string[];
  /** Worker concurrency of this agent's queue. */
  concurrency: number;
  /** Example requests this agent handles (routing uses them). */
  examples: string[];
  toolRetrieval?: ToolRetrievalOptions;
  /** Per-run budget overrides for runs of this agent. */
  budget?: Partial<Budget>;
  /** Allow 15+ tools (the lint reports an error otherwise). */
  allowManyTools?: boolean;
  /** Give the agent an `escalate_to_human` tool that hands the run to people with a summary. */
  escalation?: boolean;
  /** Short-term memory window (`k` turns, default 5), on by default; `remember` adds the built-in tool. */
  memory?: { enabled?: boolean; k?: number; remember?: boolean };
}

export type AgentOptions = Omit<AgentDefinition, 'delegates' | 'concurrency' | 'examples'> & {
  delegates?: string[];
  concurrency?: number;
  examples?: string[];
};

const AGENT_NAME = /^[a-z][a-z0-9_-]{0,47}$/;
/** What a version label may look like: a letter or digit, then up to 39 of `A-Za-z0-9._-`. */
export const VERSION_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/**
 * Define an agent.
 * @example
 * const billing = defineAgent({
 *   name: 'billing', responsibility: 'Refunds and invoices', instructions: 'Be precise.',
 *   tools: [refund, invoice], delegates: ['support'],
 * });
 */
export function defineAgent(options: AgentOptions): AgentDefinition {
  if (!AGENT_NAME.test(options.name)) {
    throw new TypeError(`agent name "${options.name}" must match ${AGENT_NAME.source}`);
  }
  if (
    options.version !== undefined &&
    (typeof options.version !== 'string' || !VERSION_LABEL.test(options.version))
  ) {
    throw new TypeError(
      `agent ${options.name}: version "${String(options.version)}" must match ${VERSION_LABEL.source}`,
    );
  }
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`agent ${options.name}: concurrency must be a positive integer`);
  }
  const cap = options.maxOutputTokens;
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 1)) {
    throw new TypeError(`agent ${options.name}: maxOutputTokens must be a positive integer`);
  }
  const window = options.contextTokens;
  if (window !== undefined && (!Number.isInteger(window) || window < 256)) {
    throw new TypeError(`agent ${options.name}: contextTokens must be an integer of at least 256`);
  }
  // Tool names used twice are reported by the configuration check (with the path), not here.
  return { ...options, delegates: options.delegates ?? [], concurrency, examples: options.examples ?? [] };
}

/** The built-in tool through which an agent hands a run to people. */
export const ESCALATE_TOOL = 'escalate_to_human';

/** The name of the tool through which an agent delegates to `target`. */
export const delegateToolName = (target: string): string => `delegate_to_${target}`;

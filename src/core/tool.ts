import type { z } from 'zod';

/** Risk classes a tool declares; governance policies key on them. */
export const RISK_CLASSES = ['read', 'write', 'financial', 'policy', 'customer-impacting'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

/** How a failing tool call is retried: exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  maxAttempts: number;
  /** Delay before the second attempt, in ms. */
  initialDelayMs: number;
  /** Upper bound of one delay, in ms. */
  maxDelayMs: number;
  /** Growth factor per attempt. */
  factor: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  factor: 2,
};

/** What a tool receives besides its validated arguments. */
export interface ToolContext {
  runId: string;
  callId: string;
  /** `runId:callId` — the same on every attempt and after a crash; honour it to be exactly-once in effect. */
  idempotencyKey: string;
  attempt: number;
  actorId: string;
  sessionId: string;
  agent: string;
  /** Aborted when the run is cancelled or the worker stops. */
  signal: AbortSignal;
  /** Emit a plain-language progress milestone for the user. */
  progress(message: string): void;
  /** W3C trace headers of this call's span: pass them on to downstream services. */
  traceHeaders: { traceparent: string };
}

/** What `reconcile(key)` reports about an in-doubt call after a crash. */
export type ReconcileResult = { status: 'applied'; result: unknown } | { status: 'not-applied' };

/** A tool: a validated, risk-classed, retryable function an agent may call. */
export interface ToolDefinition<I = unknown, O = unknown> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  risk: RiskClass;
  /** True when calling twice with the same idempotency key has the effect of calling once. */
  idempotent: boolean;
  retry: RetryPolicy;
  /** A milestone shown to the user when the call starts. */
  progress?: string | ((args: I) => string);
  /** Example requests that need this tool (tool retrieval uses them). */
  examples?: string[];
  /** Business domain, for the tool-budget lint (e.g. `billing`, `shipping`). */
  domain?: string;
  /** Return a reason (string) or true when this call must wait for a human approver. */
  requiresApproval?: (args: I, ctx: { actorId: string; agent: string }) => boolean | string;
  /**
   * Facts about a call that policies see as arguments, over the validated ones: what the call will
   * really do when its arguments leave it implicit (the amount of a full refund). Not passed to `run`.
   */
  policyArgs?: (args: I) => Record<string, unknown>;
  /** After a crash, decide whether a non-idempotent call took effect. */
  reconcile?: (idempotencyKey: string, ctx: ToolContext) => Promise<ReconcileResult>;
  run(args: I, ctx: ToolContext): Promise<O> | O;
}

/** Options accepted by {@link defineTool}; `retry` may be partial and `idempotent` defaults to false. */
export type ToolOptions<I, O> = Omit<ToolDefinition<I, O>, 'retry' | 'idempotent'> & {
  retry?: Partial<RetryPolicy>;
  idempotent?: boolean;
};

/** An agent's tools, with their types erased (the engine validates input at run time). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = ToolDefinition<any, any>;

const TOOL_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

/**
 * Define a tool.
 * @example
 * const lookup = defineTool({
 *   name: 'lookup_customer', description: 'Find a customer by email', risk: 'read', idempotent: true,
 *   input: z.object({ email: z.string().email() }),
 *   run: async ({ email }) => db.customerByEmail(email),
 * });
 */
export function defineTool<I, O>(options: ToolOptions<I, O>): ToolDefinition<I, O> {
  if (!TOOL_NAME.test(options.name)) {
    throw new TypeError(`tool name "${options.name}" must match ${TOOL_NAME.source}`);
  }
  if (!options.description.trim()) throw new TypeError(`tool ${options.name}: description is required`);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  if (!(retry.maxAttempts >= 1)) throw new TypeError(`tool ${options.name}: retry.maxAttempts must be >= 1`);
  return { ...options, idempotent: options.idempotent ?? false, retry };
}

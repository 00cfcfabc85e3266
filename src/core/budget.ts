/** Per-run limits. Exceeding one ends the run `failed` with a journaled BudgetExceededError. */
export interface Budget {
  /** Agent steps: model turns. */
  maxSteps: number;
  /** Model invocations, re-issues included. */
  maxModelCalls: number;
  /** Tool executions, retries included. */
  maxToolCalls: number;
  /** Input + output tokens over all model calls. */
  maxTokens: number;
  /** Nesting of delegations below the root run. */
  maxDelegationDepth: number;
  /** Wall-clock deadline from submission, in ms. */
  deadlineMs: number;
}

export const DEFAULT_BUDGET: Budget = {
  maxSteps: 20,
  maxModelCalls: 40,
  maxToolCalls: 60,
  maxTokens: 200_000,
  maxDelegationDepth: 2,
  deadlineMs: 15 * 60_000,
};

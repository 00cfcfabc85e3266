/**
 * The journaled edges of one model call, kept out of the engine: the request (the prompt fitted
 * to the model's context window, the messages that go over the wire, when it was sent) and each
 * failed attempt (how long it took, when it failed). These events ride in the commit after the
 * call, so each carries `occurredAt`: the trace shows when things happened, not when they committed.
 */
import type { LanguageModelV4FunctionTool, LanguageModelV4Prompt } from '@ai-sdk/provider';
import { ContextBudgetError } from '../core/errors.ts';
import { event, type ErrorData } from '../core/events.ts';
import { totalsOf } from '../core/run-state.ts';
import type { ModelRetry } from '../models/resilient.ts';
import type { AgentRuntime } from './agents.ts';
import { contextTokensOf, fitPrompt } from './context-budget.ts';
import type { RunHandle } from './handle.ts';
import { wireMessageCount } from './prompt.ts';

/** The part of the engine a model call's edges use (narrow: no import of engine.ts, no cycle). */
export interface ModelStepEngine {
  readonly store: { now(): number };
  readonly opts: { contextTokens?: number };
  errorOf(error: unknown): ErrorData;
}

/**
 * Build and fit the prompt of the run's next model call and journal `model.requested`; or, when
 * even the smallest prompt does not fit the model's context, journal `run.failed` with a
 * {@link ContextBudgetError} and return null — the provider is never sent a request it must refuse.
 */
export function requestModel(
  engine: ModelStepEngine,
  h: RunHandle,
  agent: AgentRuntime,
  specs: readonly LanguageModelV4FunctionTool[],
): LanguageModelV4Prompt | null {
  const now = engine.store.now();
  let fitted: ReturnType<typeof fitPrompt>;
  try {
    fitted = fitPrompt(h.state, agent, specs, contextTokensOf(agent, engine.opts.contextTokens));
  } catch (error) {
    if (!(error instanceof ContextBudgetError)) throw error;
    h.emit(event('run.failed', { error: engine.errorOf(error), totals: totalsOf(h.state, now) }));
    return null;
  }
  h.emit(
    event('model.requested', {
      modelId: agent.model.modelId,
      provider: agent.model.provider,
      tools: specs.map((s) => s.name),
      messages: wireMessageCount(fitted.prompt, agent.model.provider),
      ...(fitted.context ? { context: fitted.context } : {}),
      occurredAt: now,
    }),
  );
  return fitted.prompt;
}

/**
 * The `onRetry` hook of one model call: journals each failed attempt with its own latency (from
 * its start, which is the call's start or the end of the previous backoff) and when it failed.
 */
export function retryRecorder(
  engine: ModelStepEngine,
  h: RunHandle,
): { onRetry: (r: ModelRetry) => void; last: () => { attempts?: number; attemptLatencyMs?: number } } {
  let attemptStart = performance.now();
  let previous = attemptStart;
  let failed = 0;
  const ms = (from: number, to: number): number => Math.round((to - from) * 1000) / 1000;
  /** The answering attempt, when earlier ones failed: its number and its own latency. */
  const last = (): { attempts?: number; attemptLatencyMs?: number } => {
    if (failed === 0) return {};
    const t = performance.now();
    return { attempts: failed + 1, attemptLatencyMs: ms(attemptStart > t ? previous : attemptStart, t) };
  };
  const onRetry = (r: ModelRetry): void => {
    failed += 1;
    const t = performance.now();
    // A backoff that did not really wait (an injected test clock): the attempt began at the last report.
    if (attemptStart > t) attemptStart = previous;
    previous = t;
    h.emit(
      event('model.retried', {
        attempt: r.attempt,
        ...(r.status !== undefined ? { status: r.status } : {}),
        delayMs: r.delayMs,
        retryAfter: r.retryAfter,
        error: engine.errorOf(r.error),
        latencyMs: ms(attemptStart, t),
        occurredAt: engine.store.now(),
      }),
    );
    // The next attempt starts once the backoff is over.
    attemptStart = t + r.delayMs;
  };
  return { onRetry, last };
}

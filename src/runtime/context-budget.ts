/**
 * The context budget: a prompt is counted before it is sent and fitted to the model's context
 * window, deterministically, so that a long conversation never reaches the provider as a request
 * it must refuse (llama.cpp: `400 request (8472 tokens) exceeds the available context size`).
 *
 * Fitting goes in a fixed order: the oldest memory turns are left out first (a pair at a time),
 * then the largest tool results are cut, each with a marker naming the run and call whose journal
 * holds the whole result; when even every result at its minimum does not fit, the run fails with a
 * {@link ContextBudgetError}. What was left out is journaled on `model.requested` (`context`).
 *
 * Counting uses js-tiktoken's `o200k_base`: close to, not equal to, any given model's tokenizer,
 * so the limit keeps a 5% allowance for the provider's own tokenizer and chat template, and room
 * for the answer (the agent's output cap, at most a quarter of the context).
 */
import type { LanguageModelV4FunctionTool, LanguageModelV4Prompt } from '@ai-sdk/provider';
import { createRequire } from 'node:module';
import type { Tiktoken } from 'js-tiktoken/lite';
import { ContextBudgetError } from '../core/errors.ts';
import type { ContextFitData } from '../core/events.ts';
import type { RunState } from '../core/run-state.ts';
import type { AgentRuntime } from './agents.ts';
import { buildPrompt, toolResultText, type PromptTrim } from './prompt.ts';

/** Tokens a chat template adds around each message (role markers, separators). */
const PER_MESSAGE = 8;
/** What a template adds when tools are listed (the tool-calling preamble). */
const TOOLS_PREAMBLE = 160;
/** The part of a cut tool result always kept. */
export const MIN_KEPT_CHARS = 400;

// js-tiktoken's main entry inlines every encoding (5.6 MB, ~70 ms to parse at import, a third of the
// package's import time); only o200k_base is used, and only once a prompt is counted. So the class
// and that one rank table are loaded on the first count, synchronously (their CommonJS builds).
const load = createRequire(import.meta.url);
let encoding: Tiktoken | undefined;
const enc = (): Tiktoken => {
  if (!encoding) {
    const lite = load('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    const ranks = load('js-tiktoken/ranks/o200k_base') as ConstructorParameters<typeof lite.Tiktoken>[0];
    encoding = new lite.Tiktoken(ranks);
  }
  return encoding;
};

/** A run of letters or digits this long is cut before encoding: BPE is quadratic in a piece's length. */
const LONG_RUN = /[\p{L}\p{M}\p{N}_]{64,}/gu;

/** Tokens of a text (long unbroken runs counted in slices, which can only over-count slightly). */
export function countTokens(text: string): number {
  let n = 0;
  let from = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    if (m.index > from) n += enc().encode(text.slice(from, m.index)).length;
    for (let i = 0; i < m[0].length; i += 32) n += enc().encode(m[0].slice(i, i + 32)).length;
    from = m.index + m[0].length;
  }
  if (from < text.length) n += enc().encode(text.slice(from)).length;
  return n;
}

/**
 * Token counts of recently counted texts, least recently used out first, up to this many characters
 * in all: a run's next step recounts only its new messages (not the instructions, tool list and
 * conversation it counted the step before), and runs of one agent share their instructions' count.
 */
const COUNT_CACHE_CHARS = 1 << 20;
const counted = new Map<string, number>();
let countedChars = 0;

/** `countTokens`, from the cache when the text was counted lately (a count depends on the text alone). */
function cachedCount(s: string): number {
  const n = counted.get(s);
  if (n !== undefined) {
    // Most recently used last.
    counted.delete(s);
    counted.set(s, n);
    return n;
  }
  const fresh = countTokens(s);
  if (s.length <= COUNT_CACHE_CHARS / 4) {
    counted.set(s, fresh);
    countedChars += s.length;
    for (const [k] of counted) {
      if (countedChars <= COUNT_CACHE_CHARS) break;
      counted.delete(k);
      countedChars -= k.length;
    }
  }
  return fresh;
}

/** Counts texts once: a fit recounts only what it changed (and the cache spans fits). */
class Counter {
  readonly #memo = new Map<string, number>();
  text(s: string): number {
    let n = this.#memo.get(s);
    if (n === undefined) {
      n = cachedCount(s);
      this.#memo.set(s, n);
    }
    return n;
  }

  /** A prompt as the wire carries it: one message per tool result, the tools as JSON. */
  prompt(prompt: LanguageModelV4Prompt, tools: readonly LanguageModelV4FunctionTool[]): number {
    let n = tools.length ? TOOLS_PREAMBLE : 0;
    for (const t of tools)
      n += this.text(JSON.stringify({ name: t.name, description: t.description, parameters: t.inputSchema }));
    for (const m of prompt) {
      if (m.role === 'system') n += PER_MESSAGE + this.text(m.content);
      else if (m.role === 'tool')
        for (const p of m.content) n += PER_MESSAGE + this.text(JSON.stringify('output' in p ? p.output : p));
      else {
        n += PER_MESSAGE;
        for (const p of m.content)
          n += this.text(p.type === 'text' ? p.text : JSON.stringify('input' in p ? p.input : p));
      }
    }
    return n;
  }
}

/** The context window an agent's model has: the agent's own setting, else the system's. */
export const contextTokensOf = (agent: AgentRuntime, fallback: number | undefined): number | undefined =>
  agent.def.contextTokens ?? fallback;

/** Tokens a prompt may use in a window of `contextTokens`, for an agent with this output cap. */
export function promptLimit(contextTokens: number, maxOutputTokens: number | undefined): number {
  const reserve = Math.min(maxOutputTokens ?? 0, Math.floor(contextTokens / 4));
  return Math.floor(contextTokens * 0.95) - reserve;
}

/** A fitted prompt and what fitting did (absent when no context size is known). */
export interface FittedPrompt {
  prompt: LanguageModelV4Prompt;
  context?: ContextFitData;
}

/**
 * Build the prompt for the run's next model call and fit it into `contextTokens`.
 * @throws ContextBudgetError when the smallest prompt (no memory turns, every result at its minimum) does not fit.
 * @example
 * const { prompt, context } = fitPrompt(state, agent, specs, 8192);
 */
export function fitPrompt(
  state: RunState,
  agent: AgentRuntime,
  tools: readonly LanguageModelV4FunctionTool[],
  contextTokens: number | undefined,
): FittedPrompt {
  if (contextTokens === undefined) return { prompt: buildPrompt(state, agent) };
  const limit = promptLimit(contextTokens, agent.maxOutputTokens);
  const count = new Counter();
  const truncate = new Map<string, number>();
  const trim: PromptTrim & { dropMemoryTurns: number } = { dropMemoryTurns: 0, truncate };
  let prompt = buildPrompt(state, agent, trim);
  let tokens = count.prompt(prompt, tools);
  const memoryTurns = state.memory?.turns.length ?? 0;
  // 1. Fewer memory turns: the oldest user/assistant pair first.
  while (tokens > limit && trim.dropMemoryTurns < memoryTurns) {
    trim.dropMemoryTurns = Math.min(memoryTurns, trim.dropMemoryTurns + 2);
    prompt = buildPrompt(state, agent, trim);
    tokens = count.prompt(prompt, tools);
  }
  // 2. Cut the largest tool result (ties: the earliest), again and again, down to its minimum.
  const results = state.turns.flatMap((t) =>
    t.role === 'tool' ? [{ callId: t.callId, tool: t.toolName, text: toolResultText(t.output) }] : [],
  );
  while (tokens > limit) {
    let pick: (typeof results)[number] | undefined;
    let pickChars = MIN_KEPT_CHARS;
    for (const r of results) {
      const kept = truncate.get(r.callId) ?? r.text.length;
      if (kept > pickChars) {
        pick = r;
        pickChars = kept;
      }
    }
    if (!pick) break;
    // Cut what the excess asks for (10% to spare), but at most half at a time: the cuts spread
    // over the largest results instead of emptying the first one.
    const have = count.text(pick.text.slice(0, pickChars));
    const wanted = Math.floor(pickChars * Math.max(0, 1 - ((tokens - limit) * 1.1) / Math.max(1, have)));
    truncate.set(pick.callId, Math.max(MIN_KEPT_CHARS, Math.floor(pickChars / 2), wanted));
    prompt = buildPrompt(state, agent, trim);
    tokens = count.prompt(prompt, tools);
  }
  if (tokens > limit) throw new ContextBudgetError(agent.name, contextTokens, limit, tokens);
  const truncated = results
    .filter((r) => truncate.has(r.callId))
    .map((r) => ({
      callId: r.callId,
      tool: r.tool,
      chars: r.text.length,
      keptChars: truncate.get(r.callId) ?? 0,
    }));
  return {
    prompt,
    context: {
      contextTokens,
      limit,
      tokens,
      ...(trim.dropMemoryTurns ? { droppedMemoryTurns: trim.dropMemoryTurns } : {}),
      ...(truncated.length ? { truncated } : {}),
    },
  };
}

/**
 * Issue 22 item 2, the pure part: counting (long unbroken runs are counted in slices, near the
 * whole-text count) and fitting (deterministic, memory turns before results, the largest result
 * first, never below the minimum, ContextBudgetError at the end).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getEncoding } from 'js-tiktoken';
import { compileConfig } from '../../src/config.ts';
import { defineAgent } from '../../src/core/agent.ts';
import { systemOptionsOf } from '../../src/system-options.ts';
import { ContextBudgetError } from '../../src/core/errors.ts';
import { EVENT_SCHEMA_VERSION, type JournalEvent, type NewEvent } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import { DEFAULT_BUDGET } from '../../src/core/budget.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { buildAgents } from '../../src/runtime/agents.ts';
import { countTokens, fitPrompt, MIN_KEPT_CHARS, promptLimit } from '../../src/runtime/context-budget.ts';

const journalOf = (events: NewEvent[]): JournalEvent[] =>
  events.map((e, i) => ({ runId: 'run_1', seq: i + 1, at: 1000 + i, v: EVENT_SCHEMA_VERSION, ...e }));

const agent = buildAgents(
  [
    defineAgent({
      name: 'archive',
      responsibility: 'r',
      instructions: 'Be brief.',
      tools: [],
      maxOutputTokens: 512,
    }),
  ],
  scriptedModel([{ text: 'unused' }]),
).get('archive')!;

/** A run with earlier session turns and two tool results of the given sizes. */
function state(sizes: [number, number], memoryTurns = 0) {
  const turns = Array.from({ length: memoryTurns }, (_, i) => ({
    role: i % 2 ? ('assistant' as const) : ('user' as const),
    text: `turn ${i} ${'word '.repeat(300)}`,
    runId: `run_0${i}`,
  }));
  const calls = [
    { callId: 's1c1', modelCallId: 'a', toolName: 'fetch', input: {} },
    { callId: 's1c2', modelCallId: 'b', toolName: 'fetch', input: {} },
  ];
  return foldRun(
    journalOf([
      {
        type: 'run.submitted',
        data: {
          actorId: 'u',
          sessionId: 's',
          input: 'hi',
          channel: 'api',
          lineage: [],
          depth: 0,
          budget: DEFAULT_BUDGET,
        },
      },
      {
        type: 'route.decided',
        data: { agent: 'archive', method: 'explicit', confidence: 1, reason: '', candidates: [] },
      },
      { type: 'agent.started', data: { agent: 'archive', version: 'v' } },
      {
        type: 'memory.loaded',
        data: {
          turns: memoryTurns / 2,
          tokens: 0,
          status: 'ok',
          context: { turns, workingState: { entities: [], lists: [] }, facts: [] },
        },
      },
      {
        type: 'model.responded',
        data: {
          modelId: 'm',
          text: '',
          toolCalls: calls,
          usage: { inputTokens: 1, outputTokens: 1 },
          latencyMs: 1,
          finishReason: 'tool-calls',
        },
      },
      ...calls.map((c, i): NewEvent => ({
        type: 'tool.succeeded',
        data: {
          callId: c.callId,
          tool: 'fetch',
          attempt: 1,
          result: `${c.callId} ${'lorem ipsum dolor '.repeat(sizes[i]! / 18)}`,
        },
      })),
    ]),
  );
}

describe('context budget', () => {
  it('counts long unbroken runs in slices, close to the whole count and never below it by much', () => {
    const enc = getEncoding('o200k_base');
    const text = `${'abc'.repeat(300)} and then ${'x1'.repeat(200)} done`;
    const whole = enc.encode(text).length;
    const sliced = countTokens(text);
    assert.ok(sliced >= whole * 0.9 && sliced <= whole * 1.5, `${sliced} vs ${whole}`);
    assert.equal(countTokens('Where is my order?'), enc.encode('Where is my order?').length);
  });

  it('sends everything when it fits, and says so', () => {
    const fit = fitPrompt(state([200, 200], 2), agent, [], 8192);
    assert.equal(fit.context?.droppedMemoryTurns, undefined);
    assert.equal(fit.context?.truncated, undefined);
    assert.equal(fit.context?.limit, promptLimit(8192, 512));
    assert.ok((fit.context?.tokens ?? Infinity) <= (fit.context?.limit ?? 0));
  });

  it('leaves memory turns out before cutting results, then cuts the largest result first', () => {
    const s = state([4_000, 20_000], 4);
    const fit = fitPrompt(s, agent, [], 4096);
    assert.equal(fit.context?.droppedMemoryTurns, 4);
    const cut = fit.context?.truncated ?? [];
    assert.deepEqual(
      cut.map((c) => c.callId),
      ['s1c2'],
      'only the largest result had to be cut',
    );
    assert.ok(cut.every((c) => c.keptChars >= MIN_KEPT_CHARS && c.keptChars < c.chars));
    assert.ok((fit.context?.tokens ?? Infinity) <= (fit.context?.limit ?? 0));
    // The same state fits the same way: the journal can say what the model saw.
    assert.deepEqual(fitPrompt(s, agent, [], 4096), fit);
  });

  it('fails with ContextBudgetError when every result at its minimum still does not fit', () => {
    assert.throws(
      () => fitPrompt(state([20_000, 20_000]), agent, [], 256),
      (e: unknown) => e instanceof ContextBudgetError && e.contextTokens === 256 && e.needed > e.limit,
    );
  });

  it('fits nothing without a context size', () => {
    assert.equal(fitPrompt(state([20_000, 20_000]), agent, [], undefined).context, undefined);
  });

  it('takes the context size from modelSettings.contextTokens or SWITCHBOARD_MODEL_CONTEXT_TOKENS, and refuses a nonsense one', () => {
    const def = defineAgent({ name: 'a', responsibility: 'r', instructions: 'i', tools: [] });
    const fromFile = compileConfig({ agents: [def], modelSettings: { contextTokens: 8192 } });
    assert.equal(systemOptionsOf(fromFile).contextTokens, 8192);
    const fromEnv = compileConfig({ agents: [def] }, { env: { SWITCHBOARD_MODEL_CONTEXT_TOKENS: '32768' } });
    assert.equal(systemOptionsOf(fromEnv).contextTokens, 32768);
    assert.equal(systemOptionsOf(compileConfig({ agents: [def] })).contextTokens, undefined);
    assert.throws(
      () => compileConfig({ agents: [def] }, { env: { SWITCHBOARD_MODEL_CONTEXT_TOKENS: '100' } }),
      /^ConfigError: SWITCHBOARD_MODEL_CONTEXT_TOKENS: .*>=256/,
    );
    assert.throws(
      () => defineAgent({ name: 'b', responsibility: 'r', instructions: 'i', tools: [], contextTokens: 10 }),
      /contextTokens must be an integer of at least 256/,
    );
  });
});

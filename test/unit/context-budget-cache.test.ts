/**
 * Token counts are cached across fits (a run's next step recounts only its new messages): a fit
 * must come out the same whether its texts were counted before, were evicted, or are new.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineAgent } from '../../src/core/agent.ts';
import { DEFAULT_BUDGET } from '../../src/core/budget.ts';
import { EVENT_SCHEMA_VERSION, type JournalEvent, type NewEvent } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { buildAgents } from '../../src/runtime/agents.ts';
import { fitPrompt } from '../../src/runtime/context-budget.ts';

const journalOf = (events: NewEvent[]): JournalEvent[] =>
  events.map((e, i) => ({ runId: 'run_1', seq: i + 1, at: 1000 + i, v: EVENT_SCHEMA_VERSION, ...e }));

const agent = buildAgents(
  [defineAgent({ name: 'archive', responsibility: 'r', instructions: 'Be brief.', tools: [] })],
  scriptedModel([{ text: 'unused' }]),
).get('archive')!;

const state = (result: string) =>
  foldRun(
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
        type: 'model.responded',
        data: {
          modelId: 'm',
          text: '',
          toolCalls: [{ callId: 's1c1', modelCallId: 'a', toolName: 'fetch', input: {} }],
          usage: { inputTokens: 1, outputTokens: 1 },
          latencyMs: 1,
          finishReason: 'tool-calls',
        },
      },
      { type: 'tool.succeeded', data: { callId: 's1c1', tool: 'fetch', attempt: 1, result } },
    ]),
  );

describe('context budget: cached counts', () => {
  it('fits the same before, while and after its texts are cached, and after they are evicted', () => {
    const result = `${'lorem ipsum dolor '.repeat(3000)} end`;
    const first = fitPrompt(state(result), agent, [], 4096);
    assert.ok(first.context?.truncated?.length, 'the result had to be cut');
    assert.deepStrictEqual(fitPrompt(state(result), agent, [], 4096), first);
    // More distinct text than the cache keeps: the first fit's counts are evicted.
    for (let i = 0; i < 600; i++) fitPrompt(state(`${i} ${'amet '.repeat(400)}`), agent, [], 1 << 20);
    assert.deepStrictEqual(fitPrompt(state(result), agent, [], 4096), first);
    assert.deepStrictEqual(fitPrompt(state(result), agent, [], 8192).prompt.length, first.prompt.length);
  });
});

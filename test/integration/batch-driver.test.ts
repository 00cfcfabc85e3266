/**
 * Issue 19 batch fairness and pacing, through the driver on a real system: a batch holds at most
 * its share of an agent's workers, so an interactive run still starts while the batch is busy;
 * rate limits the model layer reports (429 with retry-after) slow the batch down (AIMD) and fail
 * no record; the pace itself is pure and tested alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APICallError, type LanguageModelV4 } from '@ai-sdk/provider';
import { z } from 'zod';
import { createBatch, driveBatch, resultRow, type BatchProgress } from '../../src/batch/driver.ts';
import { createPace } from '../../src/batch/pace.ts';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { resilientModel } from '../../src/models/resilient.ts';
import { policyModel, scriptedModel, toolResults } from '../../src/models/scripted.ts';
import { startSystem } from '../helpers.ts';

const jsonl = (n: number, text = (i: number) => `request ${i}`): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ input: text(i + 1) })).join('\n');

describe('issue 19 batch: pace (AIMD)', () => {
  it('halves on a failure or rate limit at most once per cooldown, grows by 1/limit, holds for retry-after', () => {
    const pace = createPace(8, 1000);
    assert.equal(pace.limit, 8);
    pace.slowDown(0);
    assert.equal(pace.limit, 4);
    pace.slowDown(500); // the runs in flight were sent under the old limit: no second cut yet
    assert.equal(pace.limit, 4);
    pace.slowDown(1500, 2000);
    assert.equal(pace.limit, 2);
    assert.equal(pace.holdUntil, 3500);
    for (let i = 0; i < 3; i++) pace.ok();
    assert.equal(pace.limit, 3);
    for (let i = 0; i < 100; i++) pace.ok();
    assert.equal(pace.limit, 8);
    for (let t = 0; t < 10; t++) pace.slowDown(10_000 + t * 1000);
    assert.equal(pace.limit, 1);
  });
});

describe('issue 19 batch: fairness and rate limits', { timeout: 60_000 }, () => {
  it('a batch holds at most its share of the agent; an interactive run still starts beside it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: string[] = [];
    let interactiveStarted!: () => void;
    const interactive = new Promise<void>((r) => (interactiveStarted = r));
    const work = defineTool({
      name: 'work',
      description: 'Do the work',
      input: z.object({}),
      risk: 'read',
      idempotent: true,
      run: async (_args, ctx) => {
        started.push(ctx.runId);
        const view = await system.get(ctx.runId);
        if (view.input === 'interactive') interactiveStarted();
        else await gate;
        return { done: true };
      },
    });
    const agent = defineAgent({
      name: 'worker',
      responsibility: 'Work',
      instructions: 'Work.',
      tools: [work],
      concurrency: 4,
    });
    const model = policyModel(({ prompt }) =>
      toolResults(prompt).length === 0 ? { toolCalls: [{ toolName: 'work', input: {} }] } : { text: 'Done.' },
    );
    const { system, close } = await startSystem('sqlite', { agents: [agent], model });
    try {
      const { batch } = await createBatch(system, { text: jsonl(20), owner: 'ops', origin: 'cli' });
      const seen: BatchProgress[] = [];
      const driving = driveBatch(system, batch.batchId, {
        share: 0.5,
        concurrency: 8,
        pollMs: 20,
        onProgress: (p) => seen.push(p),
      });
      // Two batch runs hold two of the four workers (share 0.5); the batch waits for them.
      while (started.length < 2) await new Promise((r) => setTimeout(r, 10));
      const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'interactive' });
      await interactive;
      assert.equal((await system.wait(runId)).status, 'completed');
      release();
      await driving;
      assert.ok(
        seen.every((p) => p.inFlight <= 2),
        `in flight: ${seen.map((p) => p.inFlight).join(',')}`,
      );
      assert.equal(started.length, 21);
      const rows = await Promise.all(
        (await system.store.batches.records(batch.batchId)).map((r) => resultRow(system, r)),
      );
      assert.ok(rows.every((r) => r.status === 'completed'));
    } finally {
      release();
      await close();
    }
  });

  it('rate limits (429, retry-after) slow the batch down and fail no record', async () => {
    // Every run's first model call is refused with 429 and a short retry-after; the retry works.
    const answer = scriptedModel([{ text: 'Fine.' }]);
    const refused = new Set<string>();
    const inner: LanguageModelV4 = {
      ...answer,
      doGenerate: async (options) => {
        const key = JSON.stringify(options.prompt.at(-1));
        if (!refused.has(key)) {
          refused.add(key);
          throw new APICallError({
            message: 'Too Many Requests',
            url: 'http://provider.test/v1/chat',
            requestBodyValues: {},
            statusCode: 429,
            responseHeaders: { 'retry-after-ms': '30' },
            isRetryable: true,
          });
        }
        return answer.doGenerate(options);
      },
    };
    const agent = defineAgent({
      name: 'answers',
      responsibility: 'Answer',
      instructions: 'Answer.',
      tools: [],
    });
    const { system, close } = await startSystem('sqlite', {
      agents: [agent],
      model: resilientModel(inner, { maxRetries: 2 }),
    });
    try {
      const { batch } = await createBatch(system, {
        text: jsonl(12, (i) => `question ${i}`),
        owner: 'ops',
        origin: 'cli',
      });
      const limits: number[] = [];
      await driveBatch(system, batch.batchId, {
        share: 1,
        concurrency: 4,
        pollMs: 20,
        onProgress: (p) => limits.push(p.limit),
      });
      assert.ok(Math.min(...limits) < 4, `limits: ${limits.join(',')}`);
      const records = await system.store.batches.records(batch.batchId);
      assert.deepEqual(
        records.map((r) => r.status),
        records.map(() => 'completed'),
      );
    } finally {
      await close();
    }
  });
});

/**
 * Issue 22 item 1, against the llama-server fixture through SWITCHBOARD_MODEL=openai-compatible:…:
 * every model call carries an output cap (`max_tokens`), so a model that never stops ends at the
 * cap with finish reason `length` — and the run completes — instead of generating until the
 * context is full (the server has no limit of its own).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLlmServer, type LlmServer } from '../fixtures/services/llm-server.ts';
import { openOnFixture, ordersAgent } from './real-model-project.ts';

describe('issue 22 item 1: a default output cap per model and per agent', () => {
  let server: LlmServer;
  before(async () => {
    server = await startLlmServer({ script: () => ({ neverStop: true }) });
  });
  after(() => server.close());

  it('a never-stopping model ends at modelSettings.maxOutputTokens with finish reason length, and the run completes', async () => {
    const p = await openOnFixture(server.url, { env: { SWITCHBOARD_MODEL_MAX_OUTPUT_TOKENS: '48' } });
    try {
      const from = server.requests.length;
      const { events } = await p.run('Where is ORD-1?');
      const end = events.at(-1);
      assert.equal(end?.type, 'run.completed', JSON.stringify(end?.data));
      assert.equal(server.requests.length - from, 1);
      assert.equal(server.requests[from]?.max_tokens, 48);
      assert.equal(server.answers[from]?.completionTokens, 48);
      assert.equal(server.answers[from]?.finishReason, 'length');
      const responded = events.find((e) => e.type === 'model.responded');
      assert.equal((responded?.data as { finishReason: string }).finishReason, 'length');
      assert.equal((responded?.data as { usage: { outputTokens: number } }).usage.outputTokens, 48);
    } finally {
      await p.close();
    }
  });

  it('the default cap is 4096, and an agent’s own maxOutputTokens overrides the system’s', async () => {
    const p = await openOnFixture(server.url, { agents: [ordersAgent({ maxOutputTokens: 24 })] });
    try {
      const from = server.requests.length;
      const { events } = await p.run('Where is ORD-2?');
      assert.equal(events.at(-1)?.type, 'run.completed');
      assert.equal(server.requests[from]?.max_tokens, 24);
      assert.equal(server.answers[from]?.completionTokens, 24);
      assert.equal(p.project.config.modelSettings.maxOutputTokens, 4096);
    } finally {
      await p.close();
    }
  });

  it('a cap that is not a positive integer is a configuration error naming the variable', () => {
    assert.throws(
      () => ordersAgent({ maxOutputTokens: 0 }),
      /orders: maxOutputTokens must be a positive integer/,
    );
    return assert.rejects(
      openOnFixture(server.url, { env: { SWITCHBOARD_MODEL_MAX_OUTPUT_TOKENS: 'lots' } }),
      /SWITCHBOARD_MODEL_MAX_OUTPUT_TOKENS/,
    );
  });
});

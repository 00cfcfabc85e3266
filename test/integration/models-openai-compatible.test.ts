/**
 * SWITCHBOARD_MODEL=openai-compatible:… against a real HTTP server on 127.0.0.1 that speaks the
 * OpenAI chat-completions API (written here): a tool loop through a real system, streaming deltas,
 * usage and cost, a 429 with retry-after, timeouts retried then failed. The wrapper's clock is a
 * test clock: backoff waits resolve at once and timeouts fire when the server holds a request.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { ModelBehaviorError } from '../../src/core/errors.ts';
import { defineTool } from '../../src/core/tool.ts';
import { ModelProviderError } from '../../src/models/errors.ts';
import { createModelFromEnv } from '../../src/models/providers.ts';
import { resilientModel, type ModelClock, type ModelRetry } from '../../src/models/resilient.ts';
import { streamToResult } from '../../src/models/stream.ts';
import { costOf, priceTable, runUsage } from '../../src/telemetry/cost.ts';
import { journal, ofType, startSystem } from '../helpers.ts';

type Reply =
  | { text: string; usage?: [number, number, number?] }
  | { toolCalls: { name: string; args: unknown }[]; usage?: [number, number] }
  | { status: number; headers?: Record<string, string>; body: unknown }
  | { hang: true }
  | { raw: string };

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    stream?: boolean;
    messages: { role: string; content: unknown; tool_calls?: unknown }[];
    tools?: { type: string; function: { name: string; parameters: unknown } }[];
  };
}

/** An OpenAI chat-completions server playing scripted replies in order. */
class FakeOpenAI {
  readonly server: Server;
  readonly seen: Seen[] = [];
  replies: Reply[] = [];
  /** Called when a request arrives (after it is recorded). */
  onRequest: () => void = () => {};
  #held: ServerResponse[] = [];
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        this.seen.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) as Seen['body'] });
        const reply = this.replies.shift() ?? {
          status: 500,
          body: { error: { message: 'no reply scripted' } },
        };
        this.#answer(reply, this.seen.at(-1)?.body.stream === true, res);
        this.onRequest();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    for (const res of this.#held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  #answer(reply: Reply, stream: boolean, res: ServerResponse): void {
    const base = { id: `chatcmpl-${this.seen.length}`, created: 1_750_000_000, model: 'gpt-4o-mini' };
    if ('hang' in reply) return void this.#held.push(res);
    if ('raw' in reply) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(reply.raw);
    }
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      return void res.end(JSON.stringify(reply.body));
    }
    const [prompt, completion, cached] = reply.usage ?? [10, 5];
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      ...(cached !== undefined ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
    };
    const toolCalls =
      'toolCalls' in reply
        ? reply.toolCalls.map((c, i) => ({
            id: `call_${this.seen.length}_${i}`,
            type: 'function',
            function: { name: c.name, arguments: JSON.stringify(c.args) },
          }))
        : undefined;
    const finish = toolCalls ? 'tool_calls' : 'stop';
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: 'text' in reply ? reply.text : null,
                ...(toolCalls ? { tool_calls: toolCalls } : {}),
              },
              finish_reason: finish,
            },
          ],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: unknown, finish_reason: string | null = null): string =>
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }] })}\n\n`;
    let out = chunk({ role: 'assistant', content: '' });
    if ('text' in reply) {
      // Three pieces, so a subscriber sees the answer grow.
      const t = reply.text;
      const cut = [0, Math.ceil(t.length / 3), Math.ceil((2 * t.length) / 3), t.length];
      for (let i = 0; i < 3; i++) out += chunk({ content: t.slice(cut[i], cut[i + 1]) });
    }
    toolCalls?.forEach((c, index) => {
      out += chunk({
        tool_calls: [
          { index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } },
        ],
      });
      out += chunk({ tool_calls: [{ index, function: { arguments: c.function.arguments } }] });
    });
    out += chunk({}, finish);
    out += `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`;
    out += 'data: [DONE]\n\n';
    res.end(out);
  }
}

/** Backoff waits resolve at once (recorded); timeouts fire only when `fireTimers()` is called. */
function testClock(): ModelClock & { slept: number[]; fireTimers(): void } {
  let t = 1_000_000;
  const timers = new Set<() => void>();
  return {
    slept: [],
    now: () => t,
    sleep(ms) {
      this.slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
    timer(_ms, fire) {
      const entry = (): void => fire();
      timers.add(entry);
      return { cancel: () => timers.delete(entry), reset: () => {} };
    },
    fireTimers() {
      for (const f of [...timers]) {
        timers.delete(f);
        f();
      }
    },
  };
}

const lookup = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id',
  input: z.object({ id: z.string() }),
  risk: 'read',
  idempotent: true,
  run: ({ id }) => ({ id, status: 'shipped', carrier: 'DHL' }),
});

const agentWith = (model: ReturnType<typeof resilientModel>) =>
  defineAgent({
    name: 'orders',
    responsibility: 'Answer order questions',
    instructions: 'Be brief.',
    tools: [lookup],
    model,
  });

describe('openai-compatible provider against a local chat-completions server', () => {
  const fake = new FakeOpenAI();
  before(() => fake.start());
  after(() => fake.stop());
  const fresh = (): void => {
    fake.seen.length = 0;
    fake.replies = [];
    fake.onRequest = () => {};
  };
  const model = (clock = testClock(), extra: Parameters<typeof resilientModel>[1] = {}) =>
    resilientModel(createModelFromEnv({ SWITCHBOARD_MODEL: `openai-compatible:${fake.url}#gpt-4o-mini` })!, {
      clock,
      timeoutMs: 30_000,
      ...extra,
    });

  it('runs a tool loop through a real system, journaling usage, and prices it', async () => {
    fresh();
    fake.replies = [
      { toolCalls: [{ name: 'lookup_order', args: { id: 'ORD-42' } }], usage: [120, 18] },
      { text: 'Order ORD-42 has shipped with DHL.', usage: [180, 12, 100] },
    ];
    const { system, close } = await startSystem('memory', { agents: [agentWith(model())] });
    try {
      const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'Where is ORD-42?' });
      const run = await system.wait(runId);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.output, 'Order ORD-42 has shipped with DHL.');
      const events = await journal(system, runId);
      assert.deepEqual(ofType(events, 'tool.succeeded')[0]?.data.result, {
        id: 'ORD-42',
        status: 'shipped',
        carrier: 'DHL',
      });
      const responded = ofType(events, 'model.responded');
      assert.equal(responded.length, 2);
      assert.equal(responded[0]?.data.modelId, 'gpt-4o-mini');
      assert.deepEqual(
        responded[0]?.data.toolCalls.map((c) => [c.toolName, c.input]),
        [['lookup_order', { id: 'ORD-42' }]],
      );
      assert.equal(responded[0]?.data.finishReason, 'tool-calls');
      assert.deepEqual(responded[0]?.data.usage, {
        inputTokens: 120,
        outputTokens: 18,
        cachedInputTokens: 0,
      });
      assert.deepEqual(responded[1]?.data.usage, {
        inputTokens: 180,
        outputTokens: 12,
        cachedInputTokens: 100,
      });
      assert.equal(responded[1]?.data.finishReason, 'stop');
      // Cost from the existing price table: gpt-4o-mini at 0.15 / 0.6 per M (cached 0.075).
      const prices = priceTable({}, {});
      const usage = runUsage(events, prices);
      const expected = (120 * 0.15 + 18 * 0.6 + 80 * 0.15 + 100 * 0.075 + 12 * 0.6) / 1e6;
      assert.equal(usage.modelCalls, 2);
      assert.ok(Math.abs(usage.costUsd - expected) < 1e-12, `${usage.costUsd} vs ${expected}`);
      assert.ok(costOf(prices, 'gpt-4o-mini', { inputTokens: 1e6, outputTokens: 0 }) === 0.15);
      // What the server was sent: the tool as a function, then the tool result on the second turn.
      assert.equal(fake.seen[0]?.path, '/v1/chat/completions');
      assert.equal(fake.seen[0]?.body.model, 'gpt-4o-mini');
      assert.deepEqual(
        fake.seen[0]?.body.tools?.map((t) => [t.type, t.function.name]),
        [['function', 'lookup_order']],
      );
      const second = fake.seen[1]?.body.messages ?? [];
      const toolMsg = second.find((m) => m.role === 'tool');
      assert.ok(toolMsg, 'the tool result goes back to the model');
      assert.match(String(toolMsg.content), /shipped/);
      assert.ok(second.some((m) => m.role === 'assistant' && m.tool_calls));
    } finally {
      await close();
    }
  });

  it('streams text deltas as they arrive and returns the doGenerate shape', async () => {
    fresh();
    fake.replies = [{ text: 'Your parcel arrives Tuesday.', usage: [40, 7] }];
    const deltas: string[] = [];
    const result = await streamToResult(
      model(),
      { prompt: [{ role: 'user', content: [{ type: 'text', text: 'When?' }] }] },
      (d) => deltas.push(d),
    );
    assert.ok(deltas.length >= 3, `deltas: ${JSON.stringify(deltas)}`);
    assert.equal(deltas.join(''), 'Your parcel arrives Tuesday.');
    assert.deepEqual(result.content, [{ type: 'text', text: 'Your parcel arrives Tuesday.' }]);
    assert.equal(result.finishReason.unified, 'stop');
    assert.equal(result.usage.inputTokens.total, 40);
    assert.equal(result.usage.outputTokens.total, 7);
    assert.equal(fake.seen[0]?.body.stream, true);
  });

  it('streams tool calls whole, with no text deltas', async () => {
    fresh();
    fake.replies = [{ toolCalls: [{ name: 'lookup_order', args: { id: 'ORD-7' } }] }];
    const deltas: string[] = [];
    const result = await streamToResult(
      model(),
      {
        prompt: [{ role: 'user', content: [{ type: 'text', text: 'ORD-7?' }] }],
        tools: [{ type: 'function', name: 'lookup_order', inputSchema: { type: 'object' } }],
      },
      (d) => deltas.push(d),
    );
    assert.deepEqual(deltas, []);
    const call = result.content.find((p) => p.type === 'tool-call');
    assert.equal(call?.type === 'tool-call' && call.toolName, 'lookup_order');
    assert.deepEqual(call?.type === 'tool-call' && JSON.parse(call.input), { id: 'ORD-7' });
    assert.equal(result.finishReason.unified, 'tool-calls');
  });

  it('retries a 429, waiting what retry-after says, and reports the retry', async () => {
    fresh();
    fake.replies = [
      {
        status: 429,
        headers: { 'retry-after': '2' },
        body: { error: { message: 'Rate limit reached for gpt-4o-mini', type: 'rate_limit' } },
      },
      { text: 'ok' },
    ];
    const clock = testClock();
    const retries: ModelRetry[] = [];
    const m = model(clock, { onRetry: (r) => retries.push(r) });
    const result = await m.doGenerate({
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
    assert.deepEqual(result.content, [{ type: 'text', text: 'ok' }]);
    assert.equal(fake.seen.length, 2);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]?.attempt, 1);
    assert.equal(retries[0]?.status, 429);
    assert.equal(retries[0]?.delayMs, 2000);
    assert.equal(retries[0]?.retryAfter, true);
    assert.match(retries[0]?.error.message ?? '', /429: Rate limit reached/);
    assert.deepEqual(clock.slept, [2000]);
  });

  it('honours retry_after given in the error body, and per-call hooks see the same retries', async () => {
    fresh();
    fake.replies = [
      { status: 503, body: { error: { message: 'overloaded', retry_after: 0.25 } } },
      { text: 'ok' },
    ];
    const clock = testClock();
    const perCall: ModelRetry[] = [];
    const m = model(clock);
    await m.withHooks({ onRetry: (r) => perCall.push(r) }).doGenerate({
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
    assert.deepEqual(
      perCall.map((r) => [r.status, r.delayMs, r.retryAfter]),
      [[503, 250, true]],
    );
  });

  it('does not retry a 400 and keeps the provider status and message', async () => {
    fresh();
    fake.replies = [{ status: 400, body: { error: { message: "Invalid value for 'model'" } } }];
    const m = model();
    await assert.rejects(
      async () => m.doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }),
      (e: unknown) =>
        e instanceof ModelProviderError &&
        e.status === 400 &&
        !e.retryable &&
        e.attempts === 1 &&
        /answered 400: Invalid value for 'model'/.test(e.message),
    );
    assert.equal(fake.seen.length, 1);
  });

  it('classifies a malformed 200 answer as ModelBehaviorError, without retrying', async () => {
    fresh();
    fake.replies = [{ raw: '{"choices": "not a list"' }];
    await assert.rejects(
      async () => model().doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }),
      ModelBehaviorError,
    );
    assert.equal(fake.seen.length, 1);
  });

  it('retries a timeout, then fails the run with a clear error naming the model and the limit', async () => {
    fresh();
    fake.replies = [{ hang: true }, { hang: true }, { hang: true }];
    const clock = testClock();
    // The server holding a request is what makes the (test) timer fire: no real waiting.
    fake.onRequest = () => setImmediate(() => clock.fireTimers());
    const retries: ModelRetry[] = [];
    const m = model(clock, { maxRetries: 2, onRetry: (r) => retries.push(r) });
    const { system, close } = await startSystem('memory', { agents: [agentWith(m)] });
    try {
      const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'Where is ORD-1?' });
      const run = await system.wait(runId);
      assert.equal(run.status, 'failed');
      assert.equal(fake.seen.length, 3);
      assert.deepEqual(
        retries.map((r) => [r.attempt, 'failure' in r.error ? r.error.failure : r.error.class, r.status]),
        [
          [1, 'timeout', undefined],
          [2, 'timeout', undefined],
        ],
      );
      assert.equal(
        run.error?.message,
        'transient: openai-compatible.chat model gpt-4o-mini did not answer within 30000 ms (gave up after 3 attempts)',
      );
      const failed = ofType(await journal(system, runId), 'run.failed')[0];
      assert.equal(failed?.data.error.name, 'ModelProviderError');
    } finally {
      await close();
    }
  });

  it('holds requests to the per-agent rate limit', async () => {
    fresh();
    fake.replies = [{ text: 'a' }, { text: 'b' }, { text: 'c' }];
    const clock = testClock();
    const m = model(clock, { requestsPerMinute: 2 });
    const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }];
    await m.doGenerate({ prompt });
    await m.doGenerate({ prompt });
    assert.deepEqual(clock.slept, []);
    await m.doGenerate({ prompt });
    // The third request waits for the first to leave the one-minute window.
    assert.deepEqual(clock.slept, [60_000]);
    assert.equal(fake.seen.length, 3);
  });

  it('fails fast on a refused connection after retries, as a network error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const clock = testClock();
    const m = resilientModel(
      createModelFromEnv({ SWITCHBOARD_MODEL: `openai-compatible:http://127.0.0.1:${port}/v1#m` })!,
      { clock, maxRetries: 1 },
    );
    await assert.rejects(
      async () => m.doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }),
      (e: unknown) => e instanceof ModelProviderError && e.failure === 'network' && e.attempts === 2,
    );
    assert.equal(clock.slept.length, 1);
  });
});

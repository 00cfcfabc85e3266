/**
 * Issue 22 item 3, against the llama-server fixture through SWITCHBOARD_MODEL=openai-compatible:…:
 * provider errors are classified (a table per provider family) and only what can succeed on retry
 * is retried. The run's error says the class (`details.class`, and the message's prefix).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { classifyAnswer, familyOf } from '../../src/models/error-classes.ts';
import { startLlmServer, type FixtureTurn, type LlmServer } from '../fixtures/services/llm-server.ts';
import { openOnFixture } from './real-model-project.ts';

type Failed = {
  error: { message: string; details?: { class?: string; attempts?: number; status?: number } };
};

describe('issue 22 item 3: provider errors classified, only retryable classes retried', () => {
  const servers: LlmServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));
  const serve = async (o: Parameters<typeof startLlmServer>[0]): Promise<LlmServer> => {
    const s = await startLlmServer(o);
    servers.push(s);
    return s;
  };

  it('"tools param requires --jinja flag" (500) is not retried: one request, the run fails with class configuration', async () => {
    const server = await serve({ noToolSupport: true });
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-1?');
      const end = events.at(-1);
      assert.equal(end?.type, 'run.failed');
      assert.equal(server.requests.length, 1, 'a configuration error is sent once');
      assert.equal(events.filter((e) => e.type === 'model.retried').length, 0);
      const { error } = end.data as Failed;
      assert.equal(error.details?.class, 'configuration');
      assert.equal(error.details?.status, 500);
      assert.match(
        error.message,
        /^configuration: .*tools param requires --jinja flag.*start llama-server with --jinja/,
      );
    } finally {
      await p.close();
    }
  });

  it('a 429 with Retry-After is retried after the delay it names, and the run completes', async () => {
    const turns: FixtureTurn[] = [
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { code: 429, message: 'too many requests', type: 'rate_limit_error' } },
      },
      { text: 'ORD-1 has shipped.' },
    ];
    const server = await serve({ script: (_r, n) => turns[n] ?? { text: 'extra' } });
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-1?');
      assert.equal(events.at(-1)?.type, 'run.completed');
      assert.equal(server.requests.length, 2);
      const retried = events.filter((e) => e.type === 'model.retried');
      assert.equal(retried.length, 1);
      const r = retried[0]?.data as {
        delayMs: number;
        retryAfter: boolean;
        status: number;
        error: Failed['error'];
      };
      assert.equal(r.delayMs, 1000);
      assert.equal(r.retryAfter, true);
      assert.equal(r.status, 429);
      assert.equal(r.error.details?.class, 'rate_limit');
    } finally {
      await p.close();
    }
  });

  it('a 401 is class auth and not retried', async () => {
    const server = await serve({
      script: () => ({
        status: 401,
        body: { error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } },
      }),
    });
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-1?');
      const end = events.at(-1);
      assert.equal(end?.type, 'run.failed');
      assert.equal(server.requests.length, 1);
      assert.equal((end.data as Failed).error.details?.class, 'auth');
      assert.match((end.data as Failed).error.message, /^auth: .*Invalid API Key/);
    } finally {
      await p.close();
    }
  });

  it('a context-size 400 is class context_length and a 503 "Loading model" is overload, retried', async () => {
    const turns: FixtureTurn[] = [
      { status: 503, body: { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } } },
      { text: 'ready now' },
    ];
    const server = await serve({ contextTokens: 64, script: (_r, n) => turns[n] ?? { text: 'x' } });
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-1?');
      const end = events.at(-1);
      assert.equal(end?.type, 'run.failed');
      assert.equal(server.requests.length, 1);
      assert.equal(server.answers[0]?.status, 400);
      assert.equal((end.data as Failed).error.details?.class, 'context_length');
    } finally {
      await p.close();
    }
    const roomy = await serve({ script: (_r, n) => turns[n] ?? { text: 'x' } });
    const q = await openOnFixture(roomy.url, { env: { SWITCHBOARD_MODEL_MAX_RETRIES: '1' } });
    try {
      const { events } = await q.run('Where is ORD-1?');
      assert.equal(events.at(-1)?.type, 'run.completed');
      const r = events.find((e) => e.type === 'model.retried')?.data as { error: Failed['error'] };
      assert.equal(r.error.details?.class, 'overload');
    } finally {
      await q.close();
    }
  });

  it('each provider family has its table: Anthropic, Bedrock and OpenAI errors land in their classes', () => {
    const c = (provider: string, status: number | undefined, message: string, type?: string) =>
      classifyAnswer(provider, { status, message, type }).class;
    assert.equal(familyOf('anthropic.messages'), 'anthropic');
    assert.equal(familyOf('amazon-bedrock'), 'bedrock');
    assert.equal(familyOf('openai.responses'), 'openai');
    assert.equal(familyOf('openai-compatible.chat'), 'openai-compatible');
    assert.equal(c('anthropic.messages', 529, 'Overloaded', 'overloaded_error'), 'overload');
    assert.equal(
      c(
        'anthropic.messages',
        400,
        'prompt is too long: 210000 tokens > 200000 maximum',
        'invalid_request_error',
      ),
      'context_length',
    );
    assert.equal(
      c(
        'anthropic.messages',
        400,
        'messages: text content blocks must be non-empty',
        'invalid_request_error',
      ),
      'configuration',
    );
    assert.equal(c('anthropic.messages', 401, 'invalid x-api-key', 'authentication_error'), 'auth');
    assert.equal(
      c('amazon-bedrock', 400, 'Too many requests, please wait', 'ThrottlingException'),
      'rate_limit',
    );
    assert.equal(
      c(
        'amazon-bedrock',
        403,
        'The security token included in the request is invalid',
        'UnrecognizedClientException',
      ),
      'auth',
    );
    assert.equal(
      c('amazon-bedrock', 400, 'Input is too long for requested model.', 'ValidationException'),
      'context_length',
    );
    assert.equal(
      c('amazon-bedrock', 400, 'The provided model identifier is invalid.', 'ValidationException'),
      'configuration',
    );
    assert.equal(
      c(
        'openai.responses',
        400,
        "This model's maximum context length is 128000 tokens",
        'context_length_exceeded',
      ),
      'context_length',
    );
    assert.equal(
      c('openai.responses', 429, 'You exceeded your current quota', 'insufficient_quota'),
      'configuration',
    );
    assert.equal(c('openai.responses', 429, 'Rate limit reached for gpt-4o-mini'), 'rate_limit');
    assert.equal(
      c('openai.responses', 400, 'Your request was rejected by our content management policy'),
      'content_filter',
    );
    assert.equal(
      c(
        'openai-compatible.chat',
        500,
        'The model produced output that does not match the expected peg-native format',
      ),
      'model_behaviour',
    );
    assert.equal(c('openai-compatible.chat', 502, 'Bad Gateway'), 'transient');
    assert.equal(c('openai-compatible.chat', undefined, 'fetch failed'), 'transient');
  });
});

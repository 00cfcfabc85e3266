/**
 * Anthropic, Bedrock and OpenAI wiring against local fake servers on 127.0.0.1 (request shape,
 * authentication, SigV4 signature verified independently, response mapped), and the one-line
 * start-up errors of a bad SWITCHBOARD_MODEL.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { ConfigError } from '../../src/core/errors.ts';
import { ModelProviderError } from '../../src/models/errors.ts';
import { createModelFromEnv, describeModelSpec, parseModelSpec } from '../../src/models/providers.ts';
import { resilienceFromEnv, resilientModel } from '../../src/models/resilient.ts';
import { streamToResult } from '../../src/models/stream.ts';

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: Record<string, unknown>;
}

/** A server that records each request and answers with `respond`. */
async function fakeServer(
  respond: (r: Received, res: ServerResponse) => void,
): Promise<{ url: string; seen: Received[]; server: Server; close: () => Promise<void> }> {
  const seen: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
      };
      seen.push(r);
      respond(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const call: LanguageModelV4CallOptions = {
  prompt: [
    { role: 'system', content: 'You are the orders agent.' },
    { role: 'user', content: [{ type: 'text', text: 'Where is ORD-42?' }] },
  ],
  tools: [
    {
      type: 'function',
      name: 'lookup_order',
      description: 'Look up an order by id',
      inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    },
  ],
};

/**
 * Verify an AWS Signature Version 4 `Authorization` header from first principles (AWS's documented
 * algorithm), against what actually arrived: method, path, signed headers and body.
 */
function verifySigV4(r: Received, secret: string): { service: string; region: string; keyId: string } {
  const auth = String(r.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  assert.ok(m, `SigV4 authorization header: ${auth}`);
  const [, keyId = '', date = '', region = '', service = '', signedHeaders = '', signature = ''] = m;
  const amzDate = String(r.headers['x-amz-date'] ?? '');
  assert.match(amzDate, /^\d{8}T\d{6}Z$/);
  assert.equal(amzDate.slice(0, 8), date);
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  const [path = '', query = ''] = r.path.split('?');
  const canonicalUri = path
    .split('/')
    .map((seg) =>
      encodeURIComponent(seg).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map(
      (h) =>
        `${h}:${String(r.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const payloadHash = String(r.headers['x-amz-content-sha256'] ?? sha(r.raw));
  const canonical = [r.method, canonicalUri, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\n');
  const hmac = (key: Buffer | string, s: string): Buffer => createHmac('sha256', key).update(s).digest();
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(toSign).digest('hex');
  assert.equal(signature, expected, 'the signature covers the request that arrived');
  for (const h of ['host', 'x-amz-date']) assert.ok(signedHeaders.split(';').includes(h), `${h} is signed`);
  return { service, region, keyId };
}

describe('anthropic provider against a local Messages API server', () => {
  let fake: Awaited<ReturnType<typeof fakeServer>>;
  before(async () => {
    fake = await fakeServer((r, res) => {
      if (r.body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const ev = (type: string, data: unknown): string =>
          `event: ${type}\ndata: ${JSON.stringify({ type, ...(data as object) })}\n\n`;
        res.end(
          ev('message_start', {
            message: {
              id: 'msg_2',
              type: 'message',
              role: 'assistant',
              model: 'claude-sonnet-4-20250514',
              content: [],
              stop_reason: null,
              usage: { input_tokens: 30, output_tokens: 1 },
            },
          }) +
            ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
            ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Shipped ' } }) +
            ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'today.' } }) +
            ev('content_block_stop', { index: 0 }) +
            ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 4 } }) +
            ev('message_stop', {}),
        );
        return;
      }
      json(res, 200, {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-20250514',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'lookup_order', input: { id: 'ORD-42' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 210, output_tokens: 33, cache_read_input_tokens: 64 },
      });
    });
  });
  after(() => fake.close());

  const model = () =>
    createModelFromEnv({
      SWITCHBOARD_MODEL: 'anthropic:claude-sonnet-4-20250514',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: `${fake.url}/v1`,
    })!;

  it('sends a Messages request with the key and version headers, and maps text, tool use and usage', async () => {
    const m = model();
    assert.equal(m.modelId, 'claude-sonnet-4-20250514');
    const result = await m.doGenerate(call);
    const r = fake.seen.at(-1)!;
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/v1/messages');
    assert.equal(r.headers['x-api-key'], 'sk-ant-test');
    assert.ok(r.headers['anthropic-version'], 'anthropic-version header');
    assert.equal(r.body.model, 'claude-sonnet-4-20250514');
    assert.equal(typeof r.body.max_tokens, 'number');
    assert.deepEqual(r.body.system, [{ type: 'text', text: 'You are the orders agent.' }]);
    assert.deepEqual(r.body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Where is ORD-42?' }] },
    ]);
    const tools = r.body.tools as { name: string; description: string; input_schema: unknown }[];
    assert.deepEqual(
      tools.map((t) => [t.name, t.description, t.input_schema]),
      [
        [
          'lookup_order',
          'Look up an order by id',
          call.tools?.[0]?.type === 'function' && call.tools[0].inputSchema,
        ],
      ],
    );
    assert.deepEqual(result.content[0], { type: 'text', text: 'Let me check.' });
    const tc = result.content[1];
    assert.equal(tc?.type, 'tool-call');
    assert.ok(tc?.type === 'tool-call');
    assert.equal(tc.toolName, 'lookup_order');
    assert.equal(tc.toolCallId, 'toolu_1');
    assert.deepEqual(JSON.parse(tc.input), { id: 'ORD-42' });
    assert.equal(result.finishReason.unified, 'tool-calls');
    assert.equal(result.usage.outputTokens.total, 33);
    assert.equal(result.usage.inputTokens.cacheRead, 64);
    assert.ok((result.usage.inputTokens.total ?? 0) >= 210);
  });

  it('streams deltas through streamToResult', async () => {
    const deltas: string[] = [];
    const result = await streamToResult(resilientModel(model()), call, (d) => deltas.push(d));
    assert.deepEqual(deltas, ['Shipped ', 'today.']);
    assert.deepEqual(result.content, [{ type: 'text', text: 'Shipped today.' }]);
    assert.equal(result.finishReason.unified, 'stop');
    assert.equal(result.usage.outputTokens.total, 4);
  });
});

describe('bedrock provider against a local Converse API server', () => {
  let fake: Awaited<ReturnType<typeof fakeServer>>;
  let status = 200;
  before(async () => {
    fake = await fakeServer((_r, res) => {
      if (status !== 200) {
        json(
          res,
          status,
          { message: 'Too many requests, please wait before trying again.' },
          {
            'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/',
          },
        );
        return;
      }
      json(res, 200, {
        output: {
          message: {
            role: 'assistant',
            content: [
              { text: 'Checking the order.' },
              { toolUse: { toolUseId: 'tooluse_1', name: 'lookup_order', input: { id: 'ORD-42' } } },
            ],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 150, outputTokens: 25, totalTokens: 175 },
        metrics: { latencyMs: 12 },
      });
    });
  });
  after(() => fake.close());

  const modelId = 'anthropic.claude-3-5-haiku-20241022-v1:0';
  const env = () => ({
    SWITCHBOARD_MODEL: `bedrock:${modelId}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTESTKEY',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    AWS_SESSION_TOKEN: 'test-session-token',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
  });

  it('signs a Converse request with SigV4 and maps text, tool use and usage', async () => {
    status = 200;
    const m = createModelFromEnv(env())!;
    const result = await m.doGenerate(call);
    const r = fake.seen.at(-1)!;
    assert.equal(r.method, 'POST');
    assert.equal(decodeURIComponent(r.path), `/model/${modelId}/converse`);
    const sig = verifySigV4(r, 'test-secret-key');
    assert.deepEqual(sig, { service: 'bedrock', region: 'eu-west-1', keyId: 'AKIDTESTKEY' });
    assert.equal(r.headers['x-amz-security-token'], 'test-session-token');
    assert.deepEqual(r.body.system, [{ text: 'You are the orders agent.' }]);
    assert.deepEqual(r.body.messages, [{ role: 'user', content: [{ text: 'Where is ORD-42?' }] }]);
    const toolConfig = r.body.toolConfig as {
      tools: { toolSpec: { name: string; inputSchema: { json: unknown } } }[];
    };
    assert.equal(toolConfig.tools[0]?.toolSpec.name, 'lookup_order');
    assert.deepEqual(
      toolConfig.tools[0]?.toolSpec.inputSchema.json,
      call.tools?.[0]?.type === 'function' && call.tools[0].inputSchema,
    );
    assert.deepEqual(result.content[0], { type: 'text', text: 'Checking the order.' });
    const tc = result.content.find((p) => p.type === 'tool-call');
    assert.ok(tc?.type === 'tool-call');
    assert.equal(tc.toolName, 'lookup_order');
    assert.deepEqual(JSON.parse(tc.input), { id: 'ORD-42' });
    assert.equal(result.finishReason.unified, 'tool-calls');
    assert.equal(result.usage.inputTokens.total, 150);
    assert.equal(result.usage.outputTokens.total, 25);
  });

  it('keeps a throttled answer as a retryable provider error with its status and message', async () => {
    status = 429;
    const slept: number[] = [];
    const m = resilientModel(createModelFromEnv(env())!, {
      maxRetries: 1,
      clock: {
        now: () => 0,
        sleep: (ms) => (slept.push(ms), Promise.resolve()),
        timer: () => ({ cancel: () => {}, reset: () => {} }),
      },
    });
    await assert.rejects(
      async () => m.doGenerate(call),
      (e: unknown) =>
        e instanceof ModelProviderError &&
        e.status === 429 &&
        e.retryable &&
        e.attempts === 2 &&
        /Too many requests/.test(e.message),
    );
    assert.equal(slept.length, 1);
    status = 200;
  });
});

describe('openai provider wiring', () => {
  it('calls the Responses API with a bearer key and surfaces a 401 with the provider message', async () => {
    const fake = await fakeServer((_r, res) =>
      json(res, 401, {
        error: {
          message: 'Incorrect API key provided: sk-test',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      }),
    );
    try {
      const m = resilientModel(
        createModelFromEnv({
          SWITCHBOARD_MODEL: 'openai:gpt-4.1-mini',
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: `${fake.url}/v1`,
        })!,
      );
      await assert.rejects(
        async () => m.doGenerate(call),
        (e: unknown) =>
          e instanceof ModelProviderError &&
          e.status === 401 &&
          !e.retryable &&
          /Incorrect API key/.test(e.message),
      );
      assert.equal(fake.seen.length, 1, 'a 401 is not retried');
      assert.equal(fake.seen[0]?.path, '/v1/responses');
      assert.equal(fake.seen[0]?.headers.authorization, 'Bearer sk-test');
      assert.equal(fake.seen[0]?.body.model, 'gpt-4.1-mini');
    } finally {
      await fake.close();
    }
  });
});

describe('a bad SWITCHBOARD_MODEL fails at start-up with one line naming the variable and the fix', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'malformed',
      { SWITCHBOARD_MODEL: 'gpt-4o' },
      /^SWITCHBOARD_MODEL: "gpt-4o" is not <provider>:<model>; set it like e\.g\. openai:/,
    ],
    [
      'unknown provider',
      { SWITCHBOARD_MODEL: 'mistral:large' },
      /^SWITCHBOARD_MODEL: unknown provider "mistral"; use one of openai-compatible, openai, anthropic, bedrock/,
    ],
    ['no model', { SWITCHBOARD_MODEL: 'anthropic:' }, /^SWITCHBOARD_MODEL: "anthropic:" names no model/],
    [
      'compatible without #model',
      { SWITCHBOARD_MODEL: 'openai-compatible:http://127.0.0.1:11434/v1' },
      /^SWITCHBOARD_MODEL: .* must be openai-compatible:<http\(s\) base URL>#<model>/,
    ],
    [
      'compatible with a bad URL',
      { SWITCHBOARD_MODEL: 'openai-compatible:localhost#m' },
      /must be openai-compatible:/,
    ],
    [
      'openai without key',
      { SWITCHBOARD_MODEL: 'openai:gpt-4o' },
      /^SWITCHBOARD_MODEL: openai needs OPENAI_API_KEY: export OPENAI_API_KEY=/,
    ],
    [
      'anthropic without key',
      { SWITCHBOARD_MODEL: 'anthropic:claude-sonnet-4' },
      /^SWITCHBOARD_MODEL: anthropic needs ANTHROPIC_API_KEY/,
    ],
    [
      'bedrock without region',
      { SWITCHBOARD_MODEL: 'bedrock:amazon.nova-pro-v1:0' },
      /^SWITCHBOARD_MODEL: bedrock needs AWS_REGION/,
    ],
    [
      'bedrock with half a key pair',
      {
        SWITCHBOARD_MODEL: 'bedrock:amazon.nova-pro-v1:0',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKID',
      },
      /AWS_SECRET_ACCESS_KEY is missing while its pair is set/,
    ],
  ];
  for (const [name, env, message] of cases) {
    it(name, () => {
      assert.throws(
        () => createModelFromEnv(env),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.key === 'SWITCHBOARD_MODEL' &&
          !e.message.includes('\n') &&
          message.test(e.message),
      );
    });
  }

  it('is no model at all when unset (the offline model applies), and accepts each good form', () => {
    assert.equal(createModelFromEnv({}), undefined);
    assert.deepEqual(parseModelSpec('openai-compatible:http://127.0.0.1:8000/v1/#qwen2.5:7b'), {
      provider: 'openai-compatible',
      baseURL: 'http://127.0.0.1:8000/v1',
      model: 'qwen2.5:7b',
    });
    assert.deepEqual(parseModelSpec('bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0'), {
      provider: 'bedrock',
      model: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
    });
    const d = describeModelSpec(parseModelSpec('bedrock:amazon.nova-pro-v1:0'), { AWS_REGION: 'us-east-1' });
    assert.equal(d.endpoint, 'https://bedrock-runtime.us-east-1.amazonaws.com');
    assert.match(d.credentials, /AWS default chain/);
  });

  it('names a bad resilience variable too', () => {
    assert.throws(
      () => resilienceFromEnv({ SWITCHBOARD_MODEL_TIMEOUT_MS: 'soon' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === 'SWITCHBOARD_MODEL_TIMEOUT_MS: must be an integer >= 0, got "soon"',
    );
    assert.deepEqual(resilienceFromEnv({ SWITCHBOARD_MODEL_RPM: '60', SWITCHBOARD_MODEL_MAX_RETRIES: '2' }), {
      maxRetries: 2,
      requestsPerMinute: 60,
    });
  });
});

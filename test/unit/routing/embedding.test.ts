import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createEmbeddedRouter,
  createEmbeddedToolRetriever,
  openAIEmbeddings,
} from '../../../src/routing/index.ts';
import { agents, tools } from './helpers.ts';

/** A fake OpenAI-compatible embeddings endpoint: a bag-of-keywords vector per text. */
const KEYWORDS = [
  'charge',
  'refund',
  'invoice',
  'package',
  'deliver',
  'track',
  'password',
  'login',
  'weather',
];
function embed(text: string): number[] {
  const lower = text.toLowerCase();
  return [...KEYWORDS.map((k) => (lower.includes(k) ? 1 : 0)), 0.01];
}

async function withServer(
  fn: (
    baseUrl: string,
    requests: { auth: string | undefined; body: { model: string; input: string[] } }[],
  ) => Promise<void>,
  status = 200,
): Promise<void> {
  const requests: { auth: string | undefined; body: { model: string; input: string[] } }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; input: string[] };
      requests.push({ auth: req.headers.authorization, body });
      res.writeHead(status, { 'content-type': 'application/json' });
      if (status !== 200 || req.url !== '/v1/embeddings') {
        res.end('{"error":"nope"}');
        return;
      }
      // Reverse order with explicit indexes: the adapter must reorder by index.
      const data = body.input.map((t, index) => ({ index, embedding: embed(t) })).reverse();
      res.end(JSON.stringify({ data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await fn(`http://127.0.0.1:${port}/`, requests);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

void test('the embedding signal joins the fusion when an OpenAI-compatible endpoint is configured', async () => {
  await withServer(async (baseUrl, requests) => {
    const port = openAIEmbeddings({ baseUrl, model: 'test-embed', apiKey: 'k1', batchSize: 2 });
    const router = await createEmbeddedRouter(agents, port);
    assert.equal(requests.length, 2, 'three targets in batches of two');
    assert.equal(requests[0]?.body.model, 'test-embed');
    assert.equal(requests[0]?.auth, 'Bearer k1');
    const d = await router.routeAsync('I need to track my package');
    assert.equal(d.choice, 'shipping');
    assert.match(d.method, /embedding/);
    assert.ok((d.candidates[0]?.scores.embedding ?? 0) > 0.5);
    const lexicalOnly = router.route('I need to track my package');
    assert.doesNotMatch(lexicalOnly.method, /embedding/);
  });
});

void test('the embedded tool retriever scores conversations by embedding too', async () => {
  await withServer(async (baseUrl) => {
    const retriever = await createEmbeddedToolRetriever(tools, openAIEmbeddings({ baseUrl, model: 'm' }));
    const r = await retriever.retrieveAsync('what is the weather in Oslo', {
      permitted: new Set(tools.map((t) => t.name)),
    });
    assert.equal(r.candidates[0]?.name, 'get_weather');
    assert.equal(typeof r.candidates[0]?.scores.embedding, 'number');
  });
});

void test('an endpoint error is reported, not swallowed', async () => {
  await withServer(async (baseUrl) => {
    await assert.rejects(
      createEmbeddedRouter(agents, openAIEmbeddings({ baseUrl, model: 'm' })),
      /answered 500/,
    );
  }, 500);
});

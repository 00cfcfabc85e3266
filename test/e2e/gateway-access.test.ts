import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startGateway, WsClient, type Harness } from './fixtures/gateway.ts';

type Operation = { 'x-roles'?: string[]; 'x-owner-scoped'?: boolean; requestBody?: unknown };

describe('gateway ownership: another actor’s run is 404 on every ID-bearing route', () => {
  let h: Harness;
  before(async () => {
    h = await startGateway({ responses: [{ text: 'Done.' }] });
  });
  after(() => h.close());

  it('walks every {id} route of the OpenAPI document with a second actor’s key', async () => {
    const owner = await h.key('owner');
    const other = await h.key('other');
    const operator = await h.key('ops', 'operator');
    const res = await api(h, owner.key)('/v1/runs', {
      method: 'POST',
      json: { input: 'secret request', sessionId: 'private', wait: true },
    });
    const { runId } = (await res.json()) as { runId: string };
    // A batch of the owner's, for the batch routes (owner-scoped the same way).
    const posted = await api(h, owner.key)('/v1/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: '{"id":"r1","input":"secret request","sessionId":"private"}\n',
    });
    assert.equal(posted.status, 201, await posted.clone().text());
    const { batchId } = (await posted.json()) as { batchId: string };
    const doc = (await (await fetch(`${h.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const walked: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.includes('{id}')) continue;
      for (const [method, op] of Object.entries(ops)) {
        if (op['x-roles'] && !op['x-roles'].includes('user')) continue; // role-gated: not owner data
        assert.equal(op['x-owner-scoped'], true, `${method} ${path} must be owner-scoped`);
        const url = path.replace('{id}', path.startsWith('/v1/batches') ? batchId : runId);
        const init = { method: method.toUpperCase(), ...(op.requestBody ? { json: {} } : {}) };
        const denied = await api(h, other.key)(url, init);
        const text = await denied.text();
        assert.equal(denied.status, 404, `${method} ${url}: ${text}`);
        assert.ok(!text.includes('secret request') && !text.includes('private'), 'no data leaks');
        assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'not_found');
        // Indistinguishable from a run that does not exist.
        const absent = await api(h, other.key)(path.replace('{id}', 'doesnotexist'), init);
        assert.equal(absent.status, 404);
        walked.push(`${method} ${path}`);
      }
    }
    assert.deepEqual(walked.sort(), [
      'get /v1/batches/{id}',
      'get /v1/batches/{id}/results',
      'get /v1/runs/{id}',
      'get /v1/runs/{id}/events',
      'get /v1/runs/{id}/graph',
      'post /v1/batches/{id}/cancel',
      'post /v1/runs/{id}/cancel',
      'post /v1/runs/{id}/replay',
    ]);
    // The owner (and an operator) still see it, and the cancel attempts changed nothing.
    const mine = (await (await api(h, owner.key)(`/v1/runs/${runId}`)).json()) as { status: string };
    assert.equal(mine.status, 'completed');
    assert.equal((await api(h, operator.key)(`/v1/runs/${runId}`)).status, 200);
    const batch = (await (await api(h, owner.key)(`/v1/batches/${batchId}`)).json()) as { status: string };
    assert.notEqual(batch.status, 'cancelled', "the other actor's cancel changed nothing");
    // The WebSocket API answers the same way, and listing never shows another actor's runs.
    const ws = new WsClient(h.wsUrl, other.key);
    await ws.opened;
    ws.send({ action: 'subscribe', runId, after: 0 });
    assert.equal((await ws.next((f) => f.type === 'error')).code, 'not_found');
    assert.deepEqual(ws.events(runId), []);
    ws.close();
    const other404 = await api(h, other.key)(`/v1/runs?sessionId=private`);
    assert.deepEqual(((await other404.json()) as { runs: unknown[] }).runs, []);
  });
});

describe('gateway usage plans', () => {
  it('admits at most rate + burst of a 10× burst, answers the rest 429 with Retry-After, and leaves another key unaffected', async () => {
    const h = await startGateway({
      responses: [{ text: 'ok' }],
      gateway: {
        plans: {
          tight: { rate: 5, burst: 5, dailyQuota: null, maxConnections: 5 },
          roomy: { rate: 1000, burst: 1000, dailyQuota: null, maxConnections: 5 },
        },
      },
    });
    try {
      const limited = await h.key('limited', 'user', 'tight');
      const neighbour = await h.key('neighbour', 'user', 'roomy');
      const started = performance.now();
      const burst = Array.from({ length: 50 }, (_, i) =>
        api(h, limited.key)('/v1/runs', {
          method: 'POST',
          json: { input: `burst ${i}`, sessionId: `b${i}` },
        }),
      );
      // The neighbour is served while the limited key is refused.
      const during = Array.from(
        { length: 5 },
        async () => (await api(h, neighbour.key)('/v1/agents')).status,
      );
      const responses = await Promise.all(burst);
      const elapsedS = (performance.now() - started) / 1000;
      const admitted = responses.filter((r) => r.status === 202).length;
      const limitedOnes = responses.filter((r) => r.status === 429);
      assert.equal(admitted + limitedOnes.length, 50);
      // The bucket holds 5 and refills 5 per second while the burst lasts.
      const refilled = Math.ceil(5 * elapsedS);
      assert.ok(admitted >= 5 && admitted <= 5 + refilled, `admitted ${admitted} in ${elapsedS} s`);
      for (const r of limitedOnes) {
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'rate_limited');
      }
      assert.deepEqual(await Promise.all(during), [200, 200, 200, 200, 200]);
    } finally {
      await h.close();
    }
  });

  it('enforces a daily quota with 429 quota_exceeded and Retry-After until the next UTC day', async () => {
    const h = await startGateway({
      gateway: { plans: { trial: { rate: 100, burst: 100, dailyQuota: 3, maxConnections: 1 } } },
    });
    try {
      const k = await h.key('trial', 'user', 'trial');
      for (let i = 0; i < 3; i++) assert.equal((await api(h, k.key)('/v1/agents')).status, 200);
      const over = await api(h, k.key)('/v1/agents');
      assert.equal(over.status, 429);
      assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'quota_exceeded');
      const retry = Number(over.headers.get('retry-after'));
      assert.ok(retry >= 1 && retry <= 86_400);
    } finally {
      await h.close();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, gatedTool, orderModel, startGateway, type Harness } from './fixtures/gateway.ts';

type Json = Record<string, unknown> & {
  error?: { code: string; message: string; details?: { field?: string } };
};

describe('gateway HTTP API', () => {
  const gate = gatedTool();
  let h: Harness;
  let alice: { id: string; key: string };
  let bob: { id: string; key: string };

  before(async () => {
    h = await startGateway({
      model: orderModel(),
      tools: [gate.tool],
      gateway: { cors: { origins: ['https://console.example'] }, limits: { maxBodyBytes: 16 * 1024 } },
    });
    gate.release();
    alice = await h.key('alice');
    bob = await h.key('bob');
  });
  after(() => h.close());

  it('submits a run (202), and with wait: true answers with the finished run', async () => {
    const call = api(h, alice.key);
    const res = await call('/v1/runs', {
      method: 'POST',
      json: { input: 'Where is order 7?', sessionId: 's1' },
    });
    assert.equal(res.status, 202);
    const accepted = (await res.json()) as Json;
    assert.match(String(accepted.runId), /^run_/);
    assert.equal(accepted.status, 'queued');

    const waited = await call('/v1/runs', {
      method: 'POST',
      json: { input: 'And order 8?', sessionId: 's2', wait: true },
    });
    assert.equal(waited.status, 200);
    const run = (await waited.json()) as Json;
    assert.equal(run.status, 'completed');
    assert.equal(run.output, 'Order 7 has shipped.');
    assert.deepEqual(
      Object.keys(run).sort(),
      [
        'agent',
        'createdAt',
        'input',
        'lastSeq',
        'output',
        'runId',
        'sessionId',
        'status',
        'totals',
        'updatedAt',
      ].sort(),
    );
    const got = (await (await call(`/v1/runs/${String(accepted.runId)}`)).json()) as Json;
    assert.equal(got.runId, accepted.runId);
  });

  it('returns the original run for a repeated Idempotency-Key or clientMessageId', async () => {
    const call = api(h, alice.key);
    const first = await call('/v1/runs', {
      method: 'POST',
      headers: { 'Idempotency-Key': 'idem-1' },
      json: { input: 'hi', sessionId: 'idem' },
    });
    const again = await call('/v1/runs', {
      method: 'POST',
      headers: { 'Idempotency-Key': 'idem-1' },
      json: { input: 'hi', sessionId: 'idem' },
    });
    const a = (await first.json()) as Json;
    const b = (await again.json()) as Json;
    assert.equal(b.runId, a.runId);
    assert.equal(b.deduplicated, true);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const viaBody = (await (
      await call('/v1/runs', {
        method: 'POST',
        json: { input: 'hi', sessionId: 'idem', clientMessageId: 'idem-1' },
      })
    ).json()) as Json;
    assert.equal(viaBody.runId, a.runId);
  });

  it('lists only the caller’s own runs, filtered by session and status', async () => {
    await api(h, bob.key)('/v1/runs', {
      method: 'POST',
      json: { input: 'bob here', sessionId: 's1', wait: true },
    });
    const mine = (await (await api(h, alice.key)('/v1/runs?sessionId=s1')).json()) as { runs: Json[] };
    assert.ok(mine.runs.length >= 1);
    const all = (await (await api(h, alice.key)('/v1/runs')).json()) as { runs: Json[] };
    const bobs = (await (await api(h, bob.key)('/v1/runs')).json()) as { runs: Json[] };
    const aliceIds = new Set(all.runs.map((r) => r.runId));
    assert.ok(bobs.runs.length >= 1);
    for (const r of bobs.runs) assert.ok(!aliceIds.has(r.runId));
    const done = (await (await api(h, alice.key)('/v1/runs?status=completed')).json()) as { runs: Json[] };
    assert.ok(done.runs.every((r) => r.status === 'completed'));
  });

  it('serves events as a JSON array after a seq, and as SSE resumable with Last-Event-ID', async () => {
    const call = api(h, alice.key);
    const run = (await (
      await call('/v1/runs', {
        method: 'POST',
        json: { input: 'Where is order 9?', sessionId: 'sse', wait: true },
      })
    ).json()) as Json;
    const runId = String(run.runId);
    const all = (await (await call(`/v1/runs/${runId}/events`)).json()) as { seq: number; type: string }[];
    assert.deepEqual(
      all.map((e) => e.seq),
      all.map((_, i) => i + 1),
    );
    assert.ok(all.some((e) => e.type === 'progress'));
    const tail = (await (await call(`/v1/runs/${runId}/events?after=3`)).json()) as { seq: number }[];
    assert.equal(tail[0]?.seq, 4);

    const sse = await call(`/v1/runs/${runId}/events`, {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': '5' },
    });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await sse.text(); // the run is over: the stream ends after its terminal event
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(
      ids,
      all.filter((e) => e.seq > 5).map((e) => e.seq),
    );
    assert.match(text, /event: end/);
  });

  it('replays a finished run from its journal: matches, no model call; another actor gets 404', async () => {
    const run = (await (
      await api(h, alice.key)('/v1/runs', {
        method: 'POST',
        json: { input: 'Where is order 11?', sessionId: 'replay', wait: true },
      })
    ).json()) as Json;
    assert.equal(run.status, 'completed');
    const runId = String(run.runId);
    const res = await api(h, alice.key)(`/v1/runs/${runId}/replay`, { method: 'POST' });
    assert.equal(res.status, 200);
    const r = (await res.json()) as {
      runId: string;
      matches: boolean;
      divergence: unknown;
      totals: { runs: number; divergences: number; decisions: number; modelCallsMade: number };
      notes: string[];
      report: string;
    };
    assert.equal(r.runId, runId);
    assert.equal(r.matches, true);
    assert.equal(r.divergence, null);
    assert.equal(r.totals.runs, 1);
    assert.equal(r.totals.divergences, 0);
    assert.equal(r.totals.modelCallsMade, 0);
    assert.ok(r.totals.decisions >= 2);
    assert.match(r.report, new RegExp(`^${runId} \\(orders, completed\\): .* — matches$`, 'm'));
    assert.match(r.report, /0 divergence\(s\), 0 model calls, 0 tool executions/);

    // Owner-scoped: bob (another user) gets the same 404 as for a run that does not exist.
    const denied = await api(h, bob.key)(`/v1/runs/${runId}/replay`, { method: 'POST' });
    assert.equal(denied.status, 404);
    assert.equal(((await denied.json()) as Json).error?.code, 'not_found');
    assert.equal((await api(h, bob.key)('/v1/runs/run_nope/replay', { method: 'POST' })).status, 404);
    // Operators may replay any actor's run.
    const ops = await h.key('replay-ops', 'operator');
    const asOps = await api(h, ops.key)(`/v1/runs/${runId}/replay`, { method: 'POST' });
    assert.equal(asOps.status, 200);
    assert.equal(((await asOps.json()) as { matches: boolean }).matches, true);
  });

  it('cancels a run', async () => {
    gate.reset();
    const call = api(h, alice.key);
    const { runId } = (await (
      await call('/v1/runs', { method: 'POST', json: { input: 'order 10', sessionId: 'cancel' } })
    ).json()) as { runId: string };
    const res = await call(`/v1/runs/${runId}/cancel`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Json).status, 'cancelled');
    gate.release();
  });

  it('lists agents with health, and health/readiness probes need no key', async () => {
    const agents = (await (await api(h, alice.key)('/v1/agents')).json()) as { agents: Json[] };
    assert.equal(agents.agents[0]?.name, 'orders');
    assert.equal((agents.agents[0]?.health as { status: string } | undefined)?.status, 'healthy');
    assert.deepEqual(agents.agents[0]?.tools, ['check_order']);
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
  });

  it('refuses approvals to a role that may not approve', async () => {
    assert.equal((await api(h, alice.key)('/v1/approvals?status=pending')).status, 403);
  });

  it('refuses bad input with a clear error naming the field', async () => {
    const call = api(h, alice.key);
    const malformed = await call('/v1/runs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"input": "hi", ',
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as Json).error?.code, 'invalid_json');

    const wrongType = await call('/v1/runs', { method: 'POST', json: { input: 'hi', sessionId: 42 } });
    assert.equal(wrongType.status, 400);
    const body = (await wrongType.json()) as Json;
    assert.equal(body.error?.details?.field, 'sessionId');
    assert.match(body.error?.message ?? '', /^sessionId: /);

    const unknown = (await (
      await call('/v1/runs', { method: 'POST', json: { input: 'hi', sessionId: 's', inptu: 1 } })
    ).json()) as Json;
    assert.equal(unknown.error?.details?.field, 'inptu');

    const missing = (await (
      await call('/v1/runs', { method: 'POST', json: { sessionId: 's' } })
    ).json()) as Json;
    assert.equal(missing.error?.details?.field, 'input');

    const badQuery = await call('/v1/runs?status=sleeping');
    assert.equal(badQuery.status, 400);
    assert.equal(((await badQuery.json()) as Json).error?.details?.field, 'status');

    const big = await call('/v1/runs', {
      method: 'POST',
      json: { input: 'x'.repeat(64 * 1024), sessionId: 's' },
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as Json).error?.code, 'payload_too_large');
  });

  it('requires a live key: 401 without one, with a wrong one, and the error shape is uniform', async () => {
    const none = await fetch(`${h.url}/v1/runs`);
    assert.equal(none.status, 401);
    const body = (await none.json()) as Json;
    assert.equal(body.error?.code, 'unauthenticated');
    assert.equal(typeof body.error?.message, 'string');
    assert.equal((await api(h, 'sbk_not-a-key')('/v1/runs')).status, 401);
    assert.equal((await api(h, alice.key)('/v1/nope')).status, 404);
  });

  it('propagates request ids and W3C traceparent, and answers CORS only for allowed origins', async () => {
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await api(h, alice.key)('/v1/agents', {
      headers: { 'X-Request-Id': 'req-123', traceparent: trace },
    });
    assert.equal(res.headers.get('x-request-id'), 'req-123');
    const tp = res.headers.get('traceparent') ?? '';
    assert.match(tp, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    assert.notEqual(tp, trace);
    assert.match((await fetch(`${h.url}/healthz`)).headers.get('x-request-id') ?? '', /^req_/);

    const pre = await fetch(`${h.url}/v1/runs`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://console.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://console.example');
    const evil = await fetch(`${h.url}/v1/runs`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  });

  it('serves an OpenAPI document generated from the request schemas', async () => {
    const doc = (await (await fetch(`${h.url}/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>
      >;
    };
    assert.equal(doc.openapi, '3.1.0');
    const submit = doc.paths['/v1/runs']?.post?.requestBody?.content['application/json']?.schema;
    assert.deepEqual(submit?.required?.sort(), ['input', 'sessionId']);
    assert.ok(doc.paths['/v1/runs/{id}/events']);
  });
});

describe('gateway memory endpoints', () => {
  it("return only the caller's own memory, and DELETE forgets it", async () => {
    const h = await startGateway();
    try {
      const alice = await h.key('alice-mem', 'user');
      const bob = await h.key('bob-mem', 'user');
      for (const [k, text] of [
        [alice.key, 'alice says KIWI123'],
        [bob.key, 'bob says MANGO456'],
      ] as const) {
        const res = await api(h, k)('/v1/runs', {
          method: 'POST',
          body: JSON.stringify({ input: text, sessionId: 'mem', wait: true }),
        });
        assert.equal(res.status, 200);
      }
      const mine = JSON.stringify(await (await api(h, alice.key)('/v1/memory?sessionId=mem')).json());
      assert.match(mine, /KIWI123/);
      assert.doesNotMatch(mine, /MANGO456/);
      const del = await api(h, alice.key)('/v1/memory', { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.ok(((await del.json()) as { deleted: number }).deleted >= 1);
      assert.doesNotMatch(JSON.stringify(await (await api(h, alice.key)('/v1/memory')).json()), /KIWI123/);
      assert.match(JSON.stringify(await (await api(h, bob.key)('/v1/memory')).json()), /MANGO456/);
    } finally {
      await h.close();
    }
  });
});

describe('gateway listeners', () => {
  it('applies IP deny lists per listener and keeps admin routes on the private listener', async () => {
    const h = await startGateway({
      gateway: {
        ip: { admin: { deny: ['127.0.0.0/8'] } },
        adminRoutes: { '/metrics': () => new Response('up 1\n') },
      },
    });
    try {
      assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${h.adminUrl}/metrics`)).status, 403);
      assert.equal((await fetch(`${h.url}/metrics`)).status, 404);
    } finally {
      await h.close();
    }
    const open = await startGateway({
      gateway: { adminRoutes: { '/metrics': () => new Response('up 1\n') } },
    });
    try {
      assert.equal(await (await fetch(`${open.adminUrl}/metrics`)).text(), 'up 1\n');
      const admin = await open.key('root', 'admin');
      const created = await fetch(`${open.adminUrl}/admin/keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin.key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'dave', role: 'user' }),
      });
      assert.equal(created.status, 201);
      const user = (await created.json()) as { key: string };
      assert.equal(
        (await fetch(`${open.adminUrl}/admin/keys`, { headers: { Authorization: `Bearer ${user.key}` } }))
          .status,
        403,
      );
    } finally {
      await open.close();
    }
  });
});

describe('POST /v1/runs with wait: true, bounded by limits.waitTimeoutMs', () => {
  const gate = gatedTool();
  let h: Harness;
  before(async () => {
    h = await startGateway({
      model: orderModel(),
      tools: [gate.tool],
      gateway: { limits: { waitTimeoutMs: 300 } },
    });
  });
  after(() => h.close());

  it('answers 202 with the run still going when the wait times out, and the run then finishes', async () => {
    const call = api(h, (await h.key('carol')).key);
    const res = await call('/v1/runs', {
      method: 'POST',
      json: { input: 'Where is order 7?', sessionId: 'slow', wait: true },
    });
    assert.equal(res.status, 202, 'the wait ended at the timeout, not with the run');
    const accepted = (await res.json()) as Json;
    assert.notEqual(accepted.status, 'completed');
    assert.equal(gate.started.length, 1, 'the tool had started: the wait timed out on a running run');
    gate.release();
    const done = await call('/v1/runs', {
      method: 'POST',
      json: { input: 'And order 8?', sessionId: 'slow', wait: true },
    });
    assert.equal(done.status, 200, 'a later wait on the same gateway answers with the finished run');
    assert.equal(((await done.json()) as Json).status, 'completed');
  });
});

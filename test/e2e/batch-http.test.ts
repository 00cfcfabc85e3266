/**
 * Issue 19 batch over real HTTP: `POST /v1/batches` (JSONL), `GET /v1/batches[/:id[/results]]`,
 * `POST /v1/batches/:id/cancel`, owner-scoped like runs (another user gets 404, operators see
 * everyone's); bad bodies get one clear error and lose nothing; the routes are in the OpenAPI
 * document. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { api, gatedTool, orderModel, startGateway, type Harness } from './fixtures/gateway.ts';
import { createBatch } from '../../src/batch/driver.ts';
import { createGateway } from '../../src/gateway/server.ts';
import { requirePostgres, type Adapter } from '../helpers.ts';

const ADAPTERS: Adapter[] = ['sqlite', ...((await requirePostgres()) ? ['postgres' as const] : [])];

interface BatchBody {
  batchId: string;
  status: string;
  owner: string;
  total: number;
  created?: boolean;
  counts: Record<string, number>;
}
interface Row {
  id: string;
  runId: string | null;
  status: string;
  output: string | null;
  error: { message: string } | null;
}

const jsonl = (records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

/**
 * POST a body too large to be read whole: the server answers 413 and closes without reading the
 * rest, which fetch reports as a failed send; a raw request hears the answer.
 */
function postRaw(url: string, key: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${key}`,
          'Content-Type': 'application/x-ndjson',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', () => {});
    req.end(body);
  });
}

/** Re-check `ready` on every turn of the event loop until it holds (waits on state, not a clock). */
async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ready())) await new Promise((r) => setTimeout(r, 10));
}

for (const adapter of ADAPTERS) {
  describe(`issue 19 batch over HTTP (${adapter})`, { timeout: 120_000 }, () => {
    const gate = gatedTool();
    let h: Harness;
    let alice: ReturnType<typeof api>;
    let bob: ReturnType<typeof api>;
    let operator: ReturnType<typeof api>;
    let aliceKey: string;
    before(async () => {
      h = await startGateway({
        adapter,
        tools: [gate.tool],
        model: orderModel(),
        gateway: { batch: { share: 0.5, concurrency: 8, maxBodyBytes: 2 * 1024 * 1024 } },
      });
      // The tests poll; the unlimited plan keeps the plan's rate limit out of them.
      aliceKey = (await h.key('alice', 'user', 'unlimited')).key;
      alice = api(h, aliceKey);
      bob = api(h, (await h.key('bob', 'user', 'unlimited')).key);
      operator = api(h, (await h.key('olga', 'operator', 'unlimited')).key);
    });
    after(() => h.close());

    const post = (who: ReturnType<typeof api>, body: string, type = 'application/x-ndjson', query = '') =>
      who(`/v1/batches${query}`, { method: 'POST', headers: { 'Content-Type': type }, body });
    const results = async (who: ReturnType<typeof api>, id: string): Promise<Row[]> => {
      const res = await who(`/v1/batches/${id}/results`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      return (await res.text())
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Row);
    };
    const batchOf = async (who: ReturnType<typeof api>, id: string): Promise<BatchBody> =>
      (await (await who(`/v1/batches/${id}`)).json()) as BatchBody;

    it('issue 19 batch: POST, GET and streamed results; owner-scoped (another user gets 404)', async () => {
      gate.reset();
      const already = gate.started.length;
      const body = jsonl([1, 2, 3, 4].map((i) => ({ id: `q${i}`, input: `Where is order ${i}?` })));
      const res = await post(alice, body);
      assert.equal(res.status, 201);
      const created = (await res.json()) as BatchBody;
      assert.equal(created.created, true);
      assert.equal(created.total, 4);
      assert.equal(created.owner, 'alice');
      const id = created.batchId;

      // The same body again is the same batch, not a second one.
      const again = await post(alice, body);
      assert.equal(again.status, 200);
      assert.equal(((await again.json()) as BatchBody).batchId, id);

      // Another user sees nothing of it; an operator sees it.
      for (const path of [`/v1/batches/${id}`, `/v1/batches/${id}/results`])
        assert.equal((await bob(path)).status, 404);
      assert.equal((await bob(`/v1/batches/${id}/cancel`, { method: 'POST' })).status, 404);
      const bobs = (await (await bob('/v1/batches')).json()) as { batches: BatchBody[] };
      assert.deepEqual(bobs.batches, []);
      const all = (await (await operator('/v1/batches')).json()) as { batches: BatchBody[] };
      assert.ok(all.batches.some((b) => b.batchId === id));
      assert.equal((await operator(`/v1/batches/${id}`)).status, 200);

      // Two runs at most hold the agent's four workers (share 0.5) while the tool is held.
      await until(() => gate.started.length >= already + 2);
      assert.equal((await batchOf(alice, id)).counts.submitted, 2);
      gate.release();
      await until(async () => (await batchOf(alice, id)).status === 'completed');
      const rows = await results(alice, id);
      assert.deepEqual(
        rows.map((r) => [r.id, r.status, r.output]),
        [1, 2, 3, 4].map((i) => [`q${i}`, 'completed', 'Order 7 has shipped.']),
      );
      assert.equal(new Set(rows.map((r) => r.runId)).size, 4);
      // The runs are alice's: she may follow their links; bob may not.
      assert.equal((await alice(`/v1/runs/${rows[0]!.runId}`)).status, 200);
      assert.equal((await bob(`/v1/runs/${rows[0]!.runId}`)).status, 404);
    });

    it('issue 19 batch: cancel marks unsubmitted records cancelled and cancels the runs still going', async () => {
      gate.reset();
      const already = gate.started.length;
      const res = await post(alice, jsonl([1, 2, 3, 4, 5].map((i) => ({ input: `Cancel me ${i}` }))));
      const { batchId } = (await res.json()) as BatchBody;
      // Both runs the batch may hold are in their tool: nothing else can be submitting now.
      await until(() => gate.started.length >= already + 2);
      const cancelled = await alice(`/v1/batches/${batchId}/cancel`, { method: 'POST' });
      assert.equal(cancelled.status, 200);
      const b = (await cancelled.json()) as BatchBody;
      assert.equal(b.status, 'cancelled');
      assert.deepEqual(b.counts, { cancelled: 5 });
      gate.release();
      // A run submitted while the cancel went by is cancelled by its driver, which records it.
      await until(async () => (await results(alice, batchId)).filter((r) => r.runId !== null).length === 2);
      const rows = await results(alice, batchId);
      assert.deepEqual(
        rows.map((r) => r.status),
        ['cancelled', 'cancelled', 'cancelled', 'cancelled', 'cancelled'],
      );
      assert.equal(rows.filter((r) => r.runId !== null).length, 2);
      for (const r of rows.filter((x) => x.runId))
        assert.equal(
          ((await (await alice(`/v1/runs/${r.runId}`)).json()) as { status: string }).status,
          'cancelled',
        );
    });

    it('issue 19 batch: bad bodies get one clear error; bad lines are error rows and nothing else is lost', async () => {
      gate.reset();
      gate.release();
      const expectError = async (res: Response, status: number, code: string): Promise<void> => {
        assert.equal(res.status, status);
        const e = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(e.error.code, code);
        assert.doesNotMatch(e.error.message, /\n/);
      };
      await expectError(
        await post(alice, jsonl([{ input: 'hi' }]), 'application/json'),
        415,
        'unsupported_media_type',
      );
      await expectError(await post(alice, '[{"input": "a"}, {"input": "b"}]'), 400, 'invalid_jsonl');
      await expectError(await post(alice, 'hello world\nnot jsonl either\n'), 400, 'invalid_jsonl');
      await expectError(await post(alice, '\n \n'), 400, 'bad_request');
      await expectError(
        await post(alice, jsonl([{ input: 'hi' }]), undefined, '?agent=nobody'),
        400,
        'bad_request',
      );
      const big = await postRaw(`${h.url}/v1/batches`, aliceKey, 'x'.repeat(3 * 1024 * 1024));
      assert.equal(big.status, 413);
      assert.equal((JSON.parse(big.body) as { error: { code: string } }).error.code, 'payload_too_large');
      const before = (await (await alice('/v1/batches')).json()) as { batches: BatchBody[] };

      // A 1 MB line, NUL and lone surrogates: the bad lines are error rows, the good ones run.
      const body = [
        JSON.stringify({ id: 'big', input: 'x'.repeat(1_000_000) }),
        JSON.stringify({ id: 'nul', input: 'thank\u0000you' }),
        JSON.stringify({ id: 'lone', input: 'half \ud800 a pair' }),
        JSON.stringify({ id: 'bad\u0000id', input: 'hi' }),
        JSON.stringify({ id: 'bad\udc00id', input: 'hi' }),
        '{"id": "cut", "input": "no end',
        JSON.stringify({ id: 'last', input: 'still runs' }),
      ].join('\n');
      const res = await post(alice, body, 'text/plain; charset=utf-8');
      assert.equal(res.status, 201);
      const { batchId, total } = (await res.json()) as BatchBody;
      assert.equal(total, 7);
      await until(async () => (await batchOf(alice, batchId)).status === 'completed');
      const rows = await results(alice, batchId);
      assert.deepEqual(
        rows.map((r) => [r.id, r.status]),
        [
          ['1', 'invalid'],
          ['nul', 'completed'],
          ['lone', 'completed'],
          ['4', 'invalid'],
          ['5', 'invalid'],
          ['6', 'invalid'],
          ['last', 'completed'],
        ],
      );
      assert.match(rows[0]!.error!.message, /^line 1: line is longer than 200000 characters$/);
      assert.match(rows[3]!.error!.message, /^line 4: id must not contain NUL or a lone surrogate$/);
      assert.match(rows[5]!.error!.message, /^line 6: not valid JSON/);
      // The inputs reached their runs exactly, NUL and lone surrogate included.
      const input = async (r: Row) =>
        ((await (await alice(`/v1/runs/${r.runId}`)).json()) as { input: string }).input;
      assert.equal(await input(rows[1]!), 'thank\u0000you');
      assert.equal(await input(rows[2]!), 'half \ud800 a pair');
      // The refused bodies created nothing.
      const after = (await (await alice('/v1/batches')).json()) as { batches: BatchBody[] };
      assert.equal(after.batches.length, before.batches.length + 1);
    });

    it('issue 19 batch: a running batch no process drives is resumed when it is next read', async () => {
      gate.reset();
      gate.release();
      // As a gateway that crashed leaves it: recorded, running, its records pending, no driver.
      const { batch } = await createBatch(h.system, {
        text: jsonl([
          { id: 'x', input: 'left behind' },
          { id: 'y', input: 'me too' },
        ]),
        owner: 'alice',
        origin: 'http',
      });
      assert.deepEqual(await h.system.store.batches.counts(batch.batchId), { pending: 2 });
      assert.equal((await alice(`/v1/batches/${batch.batchId}`)).status, 200);
      await until(async () => (await batchOf(alice, batch.batchId)).status === 'completed');
      assert.deepEqual(
        (await results(alice, batch.batchId)).map((r) => [r.id, r.status]),
        [
          ['x', 'completed'],
          ['y', 'completed'],
        ],
      );
    });

    it('issue 19 batch: a gateway that starts resumes the HTTP batches left running, unread', async () => {
      gate.reset();
      gate.release();
      const { batch } = await createBatch(h.system, {
        text: jsonl([
          { id: 'p', input: 'picked up' },
          { id: 'q', input: 'at start' },
        ]),
        owner: 'alice',
        origin: 'http',
      });
      const second = createGateway({
        system: h.system,
        keys: h.keys,
        port: 0,
        adminPort: false,
        consoleDir: false,
        onError: () => {},
      });
      await second.start();
      try {
        // Nobody reads the batch over HTTP: only the start-up resume can finish it.
        await until(async () => (await h.system.store.batches.get(batch.batchId))?.status === 'completed');
        assert.deepEqual(await h.system.store.batches.counts(batch.batchId), { completed: 2 });
      } finally {
        await second.stop();
      }
    });

    it('issue 19 batch: invalid UTF-8 in a body becomes U+FFFD; the record still runs', async () => {
      gate.reset();
      gate.release();
      const bytes = Buffer.concat([
        Buffer.from('{"id": "bytes", "input": "caf'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}\n'),
      ]);
      const res = await alice('/v1/batches', {
        method: 'POST',
        headers: { 'Content-Type': 'application/jsonl' },
        body: bytes,
      });
      assert.equal(res.status, 201);
      const { batchId } = (await res.json()) as BatchBody;
      await until(async () => (await batchOf(alice, batchId)).status === 'completed');
      const [row] = await results(alice, batchId);
      assert.equal(row?.status, 'completed');
      const run = (await (await alice(`/v1/runs/${row.runId}`)).json()) as { input: string };
      assert.equal(run.input, 'caf\ufffd(\ufffd');
    });

    it('issue 19 batch: the batch routes are in the OpenAPI document', async () => {
      const doc = (await (await fetch(`${h.url}/v1/openapi.json`)).json()) as {
        paths: Record<
          string,
          Record<
            string,
            {
              requestBody?: { content: Record<string, unknown> };
              responses: Record<string, { content?: Record<string, unknown> }>;
            }
          >
        >;
      };
      assert.deepEqual(Object.keys(doc.paths['/v1/batches'] ?? {}).sort(), ['get', 'post']);
      assert.deepEqual(Object.keys(doc.paths['/v1/batches/{id}/cancel'] ?? {}), ['post']);
      assert.ok(doc.paths['/v1/batches/{id}']?.get);
      assert.deepEqual(Object.keys(doc.paths['/v1/batches']!.post!.requestBody!.content).sort(), [
        'application/jsonl',
        'application/x-ndjson',
        'text/plain',
      ]);
      assert.ok(
        doc.paths['/v1/batches/{id}/results']!.get!.responses['200']!.content!['application/x-ndjson'],
      );
    });
  });
}

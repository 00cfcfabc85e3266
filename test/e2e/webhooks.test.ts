/**
 * Issue 19, must-show 3: signed webhooks against a real gateway over real HTTP, on SQLite and on
 * PostgreSQL. A valid delivery is a run; anything unsigned, tampered, stale or too large stores
 * and runs nothing (runs counted in the store before and after); a redelivery is the first run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineAgent } from '../../src/core/agent.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { compileConfig } from '../../src/config.ts';
import { createHmac } from 'node:crypto';
import { secretKey, signWebhook } from '../../src/gateway/hooks.ts';
import { journal, requirePostgres, type Adapter } from '../helpers.ts';
import { startGateway, type Harness } from './fixtures/gateway.ts';

const OLD = 'whsec_' + Buffer.from('old-secret-0123456789abcdef').toString('base64');
const NEW = 'new-secret-0123456789abcdef-plain';
const pg = await requirePostgres();

const configured = (secrets: string[], extra: Record<string, unknown> = {}) =>
  compileConfig({
    agents: [defineAgent({ name: 'orders', responsibility: 'Orders', instructions: 'Be brief.', tools: [] })],
    webhooks: [
      {
        name: 'shop',
        secrets,
        agent: 'orders',
        input: 'Order {{data.order.id}} from {{data.customer.email}}: {{data.note}}',
        maxBodyBytes: 2048,
        ...extra,
      },
    ],
  }).webhooks;

type Accepted = { runId: string; status: string; deduplicated: boolean };
type ErrorBody = { error: { code: string; message: string } };

const payload = (id: number, note = 'please hurry') =>
  JSON.stringify({
    type: 'order.created',
    data: { order: { id }, customer: { email: 'ann@example.com' }, note },
  });

/** POST a delivery; `sign` decides the headers (default: correctly signed with `secret`, now). */
async function deliver(
  h: Harness,
  body: string,
  opts: {
    id?: string;
    secret?: string;
    at?: number;
    signedBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const id = opts.id ?? `evt_${Math.random().toString(36).slice(2)}`;
  const at = opts.at ?? Math.floor(Date.now() / 1000);
  const headers = opts.headers ?? {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(at),
    'webhook-signature': signWebhook(opts.secret ?? NEW, id, at, opts.signedBody ?? body),
  };
  return fetch(`${h.url}/v1/hooks/shop`, { method: 'POST', headers, body });
}

const countRuns = async (h: Harness): Promise<number> =>
  (await h.system.store.runs.list({ limit: 1000 })).length;

for (const adapter of ['sqlite', 'postgres'] as Adapter[]) {
  describe(`webhooks (must-show 3) on ${adapter}`, { skip: adapter === 'postgres' && !pg }, () => {
    let h: Harness;
    before(async () => {
      // Rotation: the new secret first, the old one still accepted.
      h = await startGateway({ adapter, gateway: { webhooks: configured([NEW, OLD]) } });
    });
    after(() => h?.close());

    it('a validly signed delivery answers 202 with a run on channel webhook, input from the template', async () => {
      const res = await deliver(h, payload(42), { id: 'evt_valid' });
      assert.equal(res.status, 202);
      const a = (await res.json()) as Accepted;
      assert.match(a.runId, /^run_/);
      assert.equal(a.deduplicated, false);
      const submitted = (await journal(h.system, a.runId)).find((e) => e.type === 'run.submitted')!;
      assert.equal(submitted.data.channel, 'webhook');
      assert.equal(submitted.data.input, 'Order 42 from ann@example.com: please hurry');
      assert.equal(submitted.data.actorId, 'hook:shop');
      assert.equal(submitted.data.idempotencyKey, 'hook:shop:evt_valid');
      assert.deepEqual(submitted.data.metadata, { hook: 'shop', eventId: 'evt_valid' });
      assert.equal(submitted.data.agent, 'orders');
    });

    it('a redelivery of the same event id returns the first run, deduplicated, and adds none', async () => {
      const first = (await (await deliver(h, payload(7), { id: 'evt_redeliver' })).json()) as Accepted;
      const before = await countRuns(h);
      const again = await deliver(h, payload(7), { id: 'evt_redeliver' });
      assert.equal(again.status, 202);
      const b = (await again.json()) as Accepted;
      assert.equal(b.runId, first.runId);
      assert.equal(b.deduplicated, true);
      assert.equal(await countRuns(h), before);
    });

    it('tampered body, wrong secret, stale or future timestamp, missing headers: 401 and no run', async () => {
      const before = await countRuns(h);
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, Response, string][] = [
        ['tampered body', await deliver(h, payload(43), { signedBody: payload(42) }), 'signature_invalid'],
        [
          'wrong secret',
          await deliver(h, payload(44), { secret: 'not-the-secret-0123456789' }),
          'signature_invalid',
        ],
        ['stale timestamp', await deliver(h, payload(45), { at: now - 301 }), 'signature_stale'],
        // 5 s past the 300 s tolerance: `now` is floored to the second and the server reads its clock
        // later, so +301 could land inside the window when a second boundary passes in between.
        ['future timestamp', await deliver(h, payload(46), { at: now + 305 }), 'signature_stale'],
        [
          'missing headers',
          await deliver(h, payload(47), { headers: { 'content-type': 'application/json' } }),
          'signature_missing',
        ],
        [
          'signed with another event id',
          await (async () => {
            const at = now;
            const body = payload(48);
            return fetch(`${h.url}/v1/hooks/shop`, {
              method: 'POST',
              headers: {
                'webhook-id': 'evt_other',
                'webhook-timestamp': String(at),
                'webhook-signature': signWebhook(NEW, 'evt_original', at, body),
              },
              body,
            });
          })(),
          'signature_invalid',
        ],
      ];
      for (const [what, res, code] of cases) {
        assert.equal(res.status, 401, what);
        assert.equal(((await res.json()) as ErrorBody).error.code, code, what);
      }
      assert.equal(await countRuns(h), before, 'no run was stored');
    });

    it('a rotated secret: deliveries signed with the new and the old secret are both accepted', async () => {
      const byNew = await deliver(h, payload(50), { secret: NEW });
      const byOld = await deliver(h, payload(51), { secret: OLD });
      assert.equal(byNew.status, 202);
      assert.equal(byOld.status, 202);
      // Several signatures in one header (a sender mid-rotation): one matching is enough.
      const id = 'evt_multi';
      const at = Math.floor(Date.now() / 1000);
      const body = payload(52);
      const res = await fetch(`${h.url}/v1/hooks/shop`, {
        method: 'POST',
        headers: {
          'webhook-id': id,
          'webhook-timestamp': String(at),
          'webhook-signature': `${signWebhook('unknown-secret-0123456789', id, at, body)} ${signWebhook(OLD, id, at, body)}`,
        },
        body,
      });
      assert.equal(res.status, 202);
    });

    it('Stripe-style signed content (timestamp.payload, base64 or hex) verifies; tampered or stale does not', async () => {
      const stripe = (secret: string, at: number, body: string, encoding: 'base64' | 'hex'): string =>
        'v1,' + createHmac('sha256', secretKey(secret)).update(`${at}.${body}`).digest(encoding);
      const send = (id: string, at: number, body: string, signature: string): Promise<Response> =>
        fetch(`${h.url}/v1/hooks/shop`, {
          method: 'POST',
          headers: { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signature },
          body,
        });
      const now = Math.floor(Date.now() / 1000);
      const ok = await send('evt_stripe_b64', now, payload(60), stripe(NEW, now, payload(60), 'base64'));
      assert.equal(ok.status, 202);
      const hex = await send('evt_stripe_hex', now, payload(61), stripe(OLD, now, payload(61), 'hex'));
      assert.equal(hex.status, 202);
      const first = (await ok.json()) as Accepted;
      const again = await send('evt_stripe_b64', now, payload(60), stripe(NEW, now, payload(60), 'hex'));
      assert.equal(((await again.json()) as Accepted).runId, first.runId, 'redelivery dedups by event id');
      const before = await countRuns(h);
      const tampered = await send('evt_stripe_bad', now, payload(63), stripe(NEW, now, payload(62), 'hex'));
      const stale = await send(
        'evt_stripe_old',
        now - 301,
        payload(64),
        stripe(NEW, now - 301, payload(64), 'hex'),
      );
      const wrong = await send(
        'evt_stripe_key',
        now,
        payload(65),
        stripe('not-the-secret-0123456789', now, payload(65), 'base64'),
      );
      assert.deepEqual([tampered.status, stale.status, wrong.status], [401, 401, 401]);
      assert.equal(await countRuns(h), before, 'no run was stored');
    });

    it('an oversized body is 413 and no run; an unknown hook is 404; a body that is not JSON is 400', async () => {
      const before = await countRuns(h);
      const big = payload(60, 'x'.repeat(4096));
      const res = await deliver(h, big);
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as ErrorBody).error.code, 'payload_too_large');
      const unknown = await fetch(`${h.url}/v1/hooks/nope`, { method: 'POST', body: '{}' });
      assert.equal(unknown.status, 404);
      const notJson = await deliver(h, 'not json');
      assert.equal(notJson.status, 400);
      assert.equal(((await notJson.json()) as ErrorBody).error.code, 'invalid_json');
      assert.equal(await countRuns(h), before);
    });

    it('the route is in the OpenAPI document, public (the signature authenticates)', async () => {
      const doc = (await (await fetch(`${h.url}/v1/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
      };
      const op = doc.paths['/v1/hooks/{name}']?.post;
      assert.ok(op);
      assert.deepEqual(op.security, []);
      assert.ok(op.responses['202'] && op.responses['401'] && op.responses['413']);
    });
  });
}

describe('webhook configuration', () => {
  it('a bad entry is a one-line ConfigError naming its key', () => {
    const bad = (entry: Record<string, unknown>) => () =>
      compileConfig({
        agents: [defineAgent({ name: 'orders', responsibility: 'Orders', instructions: 'x', tools: [] })],
        webhooks: [{ name: 'shop', secrets: [NEW], input: 'x', ...entry }],
      });
    assert.throws(
      bad({ secrets: ['short'] }),
      (e: unknown) => e instanceof ConfigError && /secrets/.test(e.message),
    );
    assert.throws(
      bad({ input: 'Order {{data.id' }),
      (e: unknown) => e instanceof ConfigError && /input/.test(e.message),
    );
    assert.throws(bad({ input: '{{a + b}}' }), /webhooks\[0\]\.input/);
    assert.throws(bad({ name: 'Bad Name' }), /webhooks\[0\]\.name/);
    assert.throws(bad({ secret: NEW }), /webhooks\[0\]/);
    for (const make of [bad({ input: '{{a' }), bad({ toleranceSec: 0 })]) {
      try {
        make();
        assert.fail('expected a ConfigError');
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        assert.ok(!e.message.includes('\n'), e.message);
      }
    }
  });
});

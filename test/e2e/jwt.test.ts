/**
 * Issue 19, must-show 4: JWT identities against a real gateway, with a JWKS server in the test.
 * A valid token is the claimed actor on HTTP and on the WebSocket; each bad token class is a 401
 * (403 for a role the gateway lacks) with its reason code; a rotated key is picked up without a
 * restart while refreshes stay rate limited (fetches counted at the JWKS server); an open socket
 * closes when its token expires.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { defineAgent } from '../../src/core/agent.ts';
import { compileConfig } from '../../src/config.ts';
import type { JwtConfig } from '../../src/gateway/jwt.ts';
import { gatedTool, orderModel, startGateway, WsClient, type Harness } from './fixtures/gateway.ts';

const ISSUER = 'https://id.example.test';
const AUDIENCE = 'switchboard';
const COOLDOWN_MS = 1500;

type ErrorBody = { error: { code: string; message: string } };

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** A JWKS endpoint whose key set the test switches, counting every fetch. */
async function jwksServer(): Promise<{
  url: string;
  fetches: () => number;
  serve(keys: JWK[]): void;
  close(): Promise<void>;
}> {
  let keys: JWK[] = [];
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    serve: (k) => void (keys = k),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const token = (
  key: SigningKey,
  claims: Record<string, unknown> = {},
  opts: { sub?: string; iss?: string; aud?: string; exp?: number | string; nbf?: number; kid?: string } = {},
): Promise<string> => {
  const jwt = new SignJWT({ role: 'user', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? key.kid })
    .setSubject(opts.sub ?? 'alice')
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m');
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(key.privateKey);
};

const jwtConfig = (jwt: Record<string, unknown>): JwtConfig =>
  compileConfig({
    agents: [defineAgent({ name: 'orders', responsibility: 'Orders', instructions: 'x', tools: [] })],
    gateway: { auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, ...jwt } } },
  }).gateway.auth.jwt!;

const call = (h: Harness, bearer: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(h.url + path, {
    ...init,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });

const now = (): number => Math.floor(Date.now() / 1000);

describe('JWT identities (must-show 4)', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let h: Harness;
  let k1: SigningKey;
  let k2: SigningKey;
  const gate = gatedTool();

  before(async () => {
    jwks = await jwksServer();
    k1 = await signingKey('k1');
    jwks.serve([k1.jwk]);
    h = await startGateway({
      // Runs wait in their tool until the end, so streams of them stay open until closed.
      model: orderModel(),
      tools: [gate.tool],
      gateway: {
        jwt: jwtConfig({ jwksUrl: jwks.url, jwksCooldownMs: COOLDOWN_MS }),
        authThrottle: { maxFailures: 10_000 },
      },
    });
  });
  after(async () => {
    gate.release();
    await h?.close();
    await jwks?.close();
  });

  it('a valid token works on HTTP as the claimed actor, and another actor cannot read its run', async () => {
    const alice = await token(k1);
    const me = (await (await call(h, alice, '/v1/me')).json()) as { actorId: string; role: string };
    assert.deepEqual([me.actorId, me.role], ['alice', 'user']);
    const res = await call(h, alice, '/v1/runs', {
      method: 'POST',
      json: { input: 'hello', sessionId: 's1' },
    });
    assert.equal(res.status, 202);
    const { runId } = (await res.json()) as { runId: string };
    assert.equal((await h.system.store.runs.get(runId))?.actorId, 'alice');
    assert.equal((await call(h, alice, `/v1/runs/${runId}`)).status, 200);
    const bob = await token(k1, {}, { sub: 'bob' });
    assert.equal((await call(h, bob, `/v1/runs/${runId}`)).status, 404);
    // The role claim maps onto the gateway's roles: an operator reads every actor's runs.
    const ops = await token(k1, { role: 'operator' }, { sub: 'olga' });
    assert.equal((await call(h, ops, `/v1/runs/${runId}`)).status, 200);
    // API keys still work beside tokens.
    const key = await h.key('carol');
    assert.equal((await call(h, key.key, '/v1/me')).status, 200);
  });

  it('a valid token opens the WebSocket as the claimed actor: its runs are its own, others are not', async () => {
    const ws = new WsClient(h.wsUrl, await token(k1));
    await ws.opened;
    ws.send({ action: 'sendMessage', sessionId: 'ws-1', text: 'hi there', id: 1 });
    const accepted = await ws.next((f) => f.type === 'accepted');
    const runId = String(accepted.runId);
    assert.equal((await h.system.store.runs.get(runId))?.actorId, 'alice');
    ws.send({ action: 'subscribe', runId, id: 2 });
    assert.equal((await ws.next((f) => f.type === 'subscribed' || f.type === 'error')).type, 'subscribed');
    const other = new WsClient(h.wsUrl, await token(k1, {}, { sub: 'bob' }));
    await other.opened;
    other.send({ action: 'subscribe', runId, id: 3 });
    assert.equal((await other.next((f) => f.type === 'error')).code, 'not_found');
    ws.close();
    other.close();
  });

  it('each bad token class is refused with its reason code, on HTTP and at the WebSocket upgrade', async () => {
    const stranger = await signingKey('k1'); // same kid, another key: the signature cannot verify
    const cases: [string, string, number, string][] = [
      ['expired', await token(k1, {}, { exp: now() - 3600 }), 401, 'token_expired'],
      ['not yet valid', await token(k1, {}, { nbf: now() + 3600 }), 401, 'token_not_yet_valid'],
      ['wrong issuer', await token(k1, {}, { iss: 'https://evil.example' }), 401, 'token_issuer'],
      ['wrong audience', await token(k1, {}, { aud: 'someone-else' }), 401, 'token_audience'],
      ['bad signature', await token(stranger), 401, 'token_signature'],
      ['unknown kid', await token(k1, {}, { kid: 'nobody' }), 401, 'token_unknown_kid'],
      // The header is cut short: not JSON.
      [
        'malformed',
        `${Buffer.from('{"alg":"ES256"').toString('base64url')}.e30.c2ln`,
        401,
        'token_malformed',
      ],
      ['unknown role', await token(k1, { role: 'superuser' }), 403, 'token_role'],
    ];
    for (const [what, bad, status, code] of cases) {
      const res = await call(h, bad, '/v1/me');
      assert.equal(res.status, status, what);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, code, what);
      assert.ok(body.error.message.length > 0);
    }
    const refused = new WsClient(h.wsUrl, cases[0]![1]);
    await assert.rejects(refused.opened, /upgrade refused: 401/);
  });

  it('a rotated key is picked up without a restart, and refreshes stay rate limited', async () => {
    k2 = await signingKey('k2');
    jwks.serve([k2.jwk]); // the issuer rotated: k1 is gone, k2 signs
    const rotated = await token(k2);
    const before = jwks.fetches();
    // Until the cooldown since the last fetch has passed, an unknown kid is refused without a fetch;
    // then one refetch finds k2. However many requests ask, that is exactly one fetch.
    let status = 0;
    for (let attempt = 0; attempt < 200 && status !== 200; attempt++) {
      status = (await call(h, rotated, '/v1/me')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(status, 200);
    assert.equal(jwks.fetches() - before, 1);
    // A flood of unknown kids right after a fetch: refused, and at most one fetch per cooldown.
    const startedAt = Date.now();
    const after = jwks.fetches();
    for (let i = 0; i < 30; i++) {
      const res = await call(h, await token(k2, {}, { kid: `random-${i}` }), '/v1/me');
      assert.equal(res.status, 401);
    }
    assert.ok(jwks.fetches() - after <= Math.floor((Date.now() - startedAt) / COOLDOWN_MS));
    const old = await call(h, await token(k1), '/v1/me');
    assert.equal(((await old.json()) as ErrorBody).error.code, 'token_unknown_kid');
  });

  it(
    'an open WebSocket is closed 4001 "token expired" when its token expires',
    { timeout: 20_000 },
    async () => {
      const short = await token(k2, {}, { exp: now() + 2 });
      const ws = new WsClient(h.wsUrl, short);
      await ws.opened;
      ws.send({ action: 'ping', id: 1 });
      assert.equal((await ws.next((f) => f.type === 'pong')).type, 'pong');
      // A browser's way in: a ticket issued to the token carries its expiry.
      const ticket = (await (await call(h, short, '/v1/ws-ticket', { method: 'POST' })).json()) as {
        ticket: string;
      };
      const viaTicket = new WsClient(`${h.wsUrl}?ticket=${ticket.ticket}`);
      await viaTicket.opened;
      // An SSE stream of a run still in its tool, opened with the same token.
      const submitted = await call(h, short, '/v1/runs', {
        method: 'POST',
        json: { input: 'order 7?', sessionId: 'sse' },
      });
      const { runId } = (await submitted.json()) as { runId: string };
      const sse = await fetch(`${h.url}/v1/runs/${runId}/events`, {
        headers: { authorization: `Bearer ${short}`, accept: 'text/event-stream' },
      });
      assert.equal(sse.status, 200);
      const [closed, closedTicket, streamed] = await Promise.all([ws.closed, viaTicket.closed, sse.text()]);
      assert.deepEqual(closed, { code: 4001, reason: 'token expired' });
      assert.deepEqual(closedTicket, { code: 4001, reason: 'token expired' });
      assert.match(streamed, /event: close\ndata: \{"code":4001,"reason":"token expired"\}/);
    },
  );
});

describe('JWT with a configured public key and a role map', () => {
  let h: Harness;
  let key: SigningKey;
  let pem: string;

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    pem = await exportSPKI(publicKey);
    key = { kid: 'pem', privateKey, jwk: {} };
    h = await startGateway({
      gateway: {
        jwt: jwtConfig({
          publicKey: pem,
          roleClaim: 'groups',
          roles: { 'sb-users': 'user', 'sb-admins': 'admin' },
          actorClaim: 'email',
        }),
        authThrottle: { maxFailures: 3 },
      },
    });
  });
  after(() => h?.close());

  it('maps the claims, and refused tokens count toward the authentication throttle like wrong keys', async () => {
    const admin = await token(key, { groups: ['other', 'sb-admins'], email: 'root@example.com' });
    const me = (await (await call(h, admin, '/v1/me')).json()) as { actorId: string; role: string };
    assert.deepEqual([me.actorId, me.role], ['root@example.com', 'admin']);
    const expired = await token(key, { groups: 'sb-users', email: 'x@example.com' }, { exp: now() - 3600 });
    for (let i = 0; i < 3; i++) assert.equal((await call(h, expired, '/v1/me')).status, 401);
    const blocked = await call(h, admin, '/v1/me');
    assert.equal(blocked.status, 429);
    assert.equal(((await blocked.json()) as ErrorBody).error.code, 'too_many_failures');
  });

  it('a configuration with both or neither of jwksUrl and publicKey is a ConfigError', () => {
    assert.throws(() => jwtConfig({}), /gateway\.auth\.jwt.*jwksUrl or publicKey/);
    assert.throws(() => jwtConfig({ publicKey: pem, jwksUrl: 'https://x.example/jwks' }), /exactly one/);
    assert.throws(() => jwtConfig({ publicKey: pem, defaultRole: 'root' }), /defaultRole/);
  });
});

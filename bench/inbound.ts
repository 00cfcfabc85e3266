/**
 * `node bench/inbound.ts [--json] [--duration 5]`: the cost of the two ways in that carry no API
 * key lookup (issue 19). Gateway on SQLite in this process, autocannon clients on 127.0.0.1.
 *
 * 1. `GET /v1/me` with an API key vs with a JWT (ES256, verified with jose against a local JWKS):
 *    requests/s and p50/p99 latency — what verifying a token per request costs over a cached key.
 * 2. Signed webhook deliveries (`POST /v1/hooks/:name`, a unique event id each): accepted/s and
 *    latency, each delivery verified (HMAC) and submitted as a durable run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { defineAgent } from '../src/core/agent.ts';
import { compileJwt, compileWebhooks } from '../src/gateway/inbound-config.ts';
import { signWebhook } from '../src/gateway/hooks.ts';
import { createMemoryKeyStore, issueKey } from '../src/gateway/keys.ts';
import { createGateway } from '../src/gateway/server.ts';
import { scriptedModel } from '../src/models/scripted.ts';
import { createSqliteStore } from '../src/store/sqlite/store.ts';
import { createSystem } from '../src/system.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, duration: { type: 'string', default: '5' } },
  strict: true,
});
const duration = Number(values.duration);
const SECRET = 'bench-secret-0123456789abcdef';

const { publicKey, privateKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' };
const jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-inbound-'));
const system = createSystem({
  agents: [defineAgent({ name: 'orders', responsibility: 'Orders', instructions: 'x', tools: [] })],
  model: scriptedModel([{ text: 'ok' }]),
  store: createSqliteStore({ path: join(dir, 'switchboard.db') }),
  onError: () => {},
});
// No workers: only admission is measured, not the runs' execution.
const keys = createMemoryKeyStore();
const gateway = createGateway({
  system,
  keys,
  port: 0,
  adminPort: false,
  consoleDir: false,
  plans: { default: { rate: 1e9, burst: 1e9, dailyQuota: null, maxConnections: 1000 } },
  jwt: compileJwt({ issuer: 'https://id.bench', audience: 'bench', jwksUrl }),
  webhooks: compileWebhooks([{ name: 'shop', secrets: [SECRET], agent: 'orders', input: 'Order {{id}}' }]),
  onError: () => {},
});
const { url } = await gateway.start();
const key = (await issueKey(keys, { name: 'bench', role: 'user' })).key;
const token = await new SignJWT({ role: 'user' })
  .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
  .setSubject('bench')
  .setIssuer('https://id.bench')
  .setAudience('bench')
  .setExpirationTime('1h')
  .sign(privateKey);

type Row = { what: string; rps: number; p50: number; p99: number; non2xx: number };
const rows: Row[] = [];
const load = async (what: string, opts: autocannon.Options): Promise<void> => {
  const r = await autocannon({ connections: 32, duration, ...opts });
  rows.push({
    what,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
  });
};

await load('GET /v1/me, API key', { url: `${url}/v1/me`, headers: { authorization: `Bearer ${key}` } });
await load('GET /v1/me, JWT (ES256, JWKS)', {
  url: `${url}/v1/me`,
  headers: { authorization: `Bearer ${token}` },
});
let n = 0;
await load('POST /v1/hooks/shop, signed, new event id each', {
  url: `${url}/v1/hooks/shop`,
  method: 'POST',
  requests: [
    {
      setupRequest: (req) => {
        const id = `evt_${++n}`;
        const at = Math.floor(Date.now() / 1000);
        const body = JSON.stringify({ id: n });
        return {
          ...req,
          body,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(at),
            'webhook-signature': signWebhook(SECRET, id, at, body),
          },
        };
      },
    },
  ],
});

await gateway.stop();
await system.stop();
jwks.close();
rmSync(dir, { recursive: true, force: true });
if (values.json) console.log(JSON.stringify({ duration, rows }));
else
  for (const r of rows)
    console.log(`${r.what}: ${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}`);

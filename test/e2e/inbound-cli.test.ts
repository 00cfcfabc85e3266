/**
 * Issue 19 webhooks and JWT through the real `switchboard serve` on a project configuration that
 * declares both: a signed delivery becomes a run of the configured agent, and a token from the
 * configured issuer reads it as an operator — the configuration keys reach the gateway. On
 * PostgreSQL, one event delivered to two replicas at once is one run.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { signWebhook } from '../../src/gateway/hooks.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../fixtures/projects/inbound/switchboard.config.ts', import.meta.url));
const SECRET = 'cli-secret-0123456789abcdef';
const pg = await requirePostgres();

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return { ...env, ...extra };
}

/** `switchboard <args> --config CONFIG` to its exit (0 expected). */
function cli(args: string[], env: Record<string, string>): Promise<void> {
  const c = spawn(process.execPath, [BIN, ...args, '--config', CONFIG], { env: cleanEnv(env) });
  let out = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')}: ${out}`)))),
  );
}

/** A `switchboard serve` process, once it listens. */
function serve(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--config', CONFIG, '--port', '0', '--admin-port', '0'],
    {
      env: cleanEnv(env),
    },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    child.once('close', () => reject(new Error(`serve exited:\n${out}`)));
    const on = (d: Buffer): void => {
      out += d.toString();
      const url = /switchboard gateway on (http:\/\/[\d.:]+)/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        child,
        url,
        stop: async () => {
          const closed = once(child, 'close');
          child.kill('SIGTERM');
          await closed;
        },
      });
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
}

const deliver = (url: string, id: string, body: string): Promise<Response> => {
  const at = Math.floor(Date.now() / 1000);
  return fetch(`${url}/v1/hooks/shop`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(at),
      'webhook-signature': signWebhook(SECRET, id, at, body),
    },
    body,
  });
};

const operatorToken = (privateKey: CryptoKey): Promise<string> =>
  new SignJWT({ role: 'operator' })
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject('olga')
    .setIssuer('https://id.example.test')
    .setAudience('switchboard')
    .setExpirationTime('5m')
    .sign(privateKey);

const body = JSON.stringify({ data: { order: { id: 9 }, note: 'where is it?', customer: { id: 'c-1' } } });

describe('switchboard serve with webhooks and gateway.auth.jwt configured', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-inbound-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a signed delivery is a run of the configured agent; a configured-issuer token reads it', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const server = await serve({
      SWITCHBOARD_DATA_DIR: join(dir, 'data'),
      SB_HOOK_SECRET: SECRET,
      SB_JWT_PUBLIC_KEY: await exportSPKI(publicKey),
    });
    try {
      const { url } = server;
      const res = await deliver(url, 'evt_cli_1', body);
      assert.equal(res.status, 202, await res.clone().text());
      const { runId } = (await res.json()) as { runId: string };
      const unsigned = await fetch(`${url}/v1/hooks/shop`, { method: 'POST', body });
      assert.equal(unsigned.status, 401);

      const headers = { authorization: `Bearer ${await operatorToken(privateKey)}` };
      const me = (await (await fetch(`${url}/v1/me`, { headers })).json()) as {
        actorId: string;
        role: string;
      };
      assert.deepEqual(me, { actorId: 'olga', role: 'operator', plan: 'default' });
      type Run = { status: string; agent: string; input: string; sessionId: string };
      let run: Run | null = null;
      for (let i = 0; i < 200; i++) {
        run = (await (await fetch(`${url}/v1/runs/${runId}`, { headers })).json()) as Run;
        if (run.status === 'completed') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(run?.status, 'completed');
      assert.equal(run?.agent, 'orders');
      assert.equal(run?.input, 'Order 9: where is it?');
      assert.equal(run?.sessionId, 'c-1');
      const events = (await (await fetch(`${url}/v1/runs/${runId}/events`, { headers })).json()) as {
        type: string;
        data: { channel?: string; actorId?: string };
      }[];
      const submitted = events.find((e) => e.type === 'run.submitted');
      assert.equal(submitted?.data.channel, 'webhook');
      assert.equal(submitted?.data.actorId, 'hook:shop');
    } finally {
      await server.stop();
    }
  });

  it('on PostgreSQL, one event delivered to two replicas at once is one run', { skip: !pg }, async () => {
    const schema = testSchema();
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const spki = await exportSPKI(publicKey);
    const env = (name: string) => ({
      SWITCHBOARD_DATABASE_URL: POSTGRES_URL,
      SWITCHBOARD_DATABASE_SCHEMA: schema,
      SWITCHBOARD_DATA_DIR: join(dir, name),
      SB_HOOK_SECRET: SECRET,
      SB_JWT_PUBLIC_KEY: spki,
    });
    await cli(['migrate'], env('a'));
    const [a, b] = await Promise.all([serve(env('a')), serve(env('b'))]);
    try {
      const answers = await Promise.all(
        [a, b, a, b].map(
          async (r) =>
            (await deliver(r.url, 'evt_twice', body)).json() as Promise<{
              runId: string;
              deduplicated: boolean;
            }>,
        ),
      );
      assert.equal(new Set(answers.map((x) => x.runId)).size, 1, JSON.stringify(answers));
      assert.equal(answers.filter((x) => !x.deduplicated).length, 1);
      const headers = { authorization: `Bearer ${await operatorToken(privateKey)}` };
      const listed = (await (await fetch(`${a.url}/v1/runs?actorId=hook:shop`, { headers })).json()) as {
        runs: { runId: string }[];
      };
      assert.deepEqual(
        listed.runs.map((r) => r.runId),
        [answers[0]!.runId],
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
    }
  });
});

/**
 * Issue 19 webhooks and JWT through the real `switchboard serve` on a project configuration that
 * declares both: a signed delivery becomes a run of the configured agent, and a token from the
 * configured issuer reads it as an operator — the configuration keys reach the gateway.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { signWebhook } from '../../src/gateway/hooks.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../fixtures/projects/inbound/switchboard.config.ts', import.meta.url));
const SECRET = 'cli-secret-0123456789abcdef';

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return { ...env, ...extra };
}

describe('switchboard serve with webhooks and gateway.auth.jwt configured', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-inbound-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a signed delivery is a run of the configured agent; a configured-issuer token reads it', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--config', CONFIG, '--port', '0', '--admin-port', '0'],
      {
        cwd: dir,
        env: cleanEnv({
          SWITCHBOARD_DATA_DIR: join(dir, 'data'),
          SB_HOOK_SECRET: SECRET,
          SB_JWT_PUBLIC_KEY: await exportSPKI(publicKey),
        }),
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
        child.once('close', () => reject(new Error(`serve exited:\n${out}`)));
        child.stdout.on('data', () => {
          const m = /switchboard gateway on (http:\/\/[\d.:]+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const body = JSON.stringify({
        data: { order: { id: 9 }, note: 'where is it?', customer: { id: 'c-1' } },
      });
      const at = Math.floor(Date.now() / 1000);
      const res = await fetch(`${url}/v1/hooks/shop`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'evt_cli_1',
          'webhook-timestamp': String(at),
          'webhook-signature': signWebhook(SECRET, 'evt_cli_1', at, body),
        },
        body,
      });
      assert.equal(res.status, 202, await res.clone().text());
      const { runId } = (await res.json()) as { runId: string };
      const unsigned = await fetch(`${url}/v1/hooks/shop`, { method: 'POST', body });
      assert.equal(unsigned.status, 401);

      const token = await new SignJWT({ role: 'operator' })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('olga')
        .setIssuer('https://id.example.test')
        .setAudience('switchboard')
        .setExpirationTime('5m')
        .sign(privateKey);
      const headers = { authorization: `Bearer ${token}` };
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
      const closed = once(child, 'close');
      child.kill('SIGTERM');
      await closed;
    }
  });
});

/**
 * Two `switchboard serve --config` processes on one PostgreSQL schema, each with its own data
 * directory (as two replicas on two machines): keys, plan counters and revocation are shared.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';
import { WsClient } from './fixtures/gateway.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../fixtures/projects/library/switchboard.config.ts', import.meta.url));

interface Replica {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  out: () => string;
}

const postgres = await requirePostgres();

describe('two serve --config replicas on PostgreSQL', { timeout: 120_000, skip: !postgres }, () => {
  const schema = testSchema();
  const dirs = [mkdtempSync(join(tmpdir(), 'sb-rep-a-')), mkdtempSync(join(tmpdir(), 'sb-rep-b-'))];
  const env = (dataDir: string): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('SWITCHBOARD_') && k !== 'NODE_TEST_CONTEXT') e[k] = v;
    return {
      ...e,
      SWITCHBOARD_DATABASE_URL: POSTGRES_URL,
      SWITCHBOARD_DATABASE_SCHEMA: schema,
      SWITCHBOARD_DATA_DIR: dataDir,
    };
  };
  const replicas: Replica[] = [];
  let admin = '';

  const cli = (args: string[], dataDir: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [BIN, ...args, '--config', LIBRARY], { env: env(dataDir) });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')}: ${out}`))));
    });

  const serve = (dataDir: string): Promise<Replica> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [BIN, 'serve', '--config', LIBRARY, '--port', '0', '--admin-port', '0'],
        {
          env: env(dataDir),
        },
      );
      let out = '';
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 40_000);
      const on = (d: Buffer): void => {
        out += d.toString();
        const url = /switchboard gateway on (http:\/\/[\d.:]+)/.exec(out)?.[1];
        const adminUrl = /admin listener on (http:\/\/[\d.:]+)/.exec(out)?.[1];
        if (url && adminUrl && /serving .*postgres schema/.test(out)) {
          clearTimeout(timer);
          resolve({ child, url, adminUrl, out: () => out });
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
    });

  before(async () => {
    await cli(['migrate'], dirs[0]!);
    admin = (
      JSON.parse(
        (
          await cli(
            ['keys', 'create', '--name', 'ops', '--role', 'admin', '--plan', 'unlimited', '--json'],
            dirs[0]!,
          )
        )
          .trim()
          .split('\n')
          .at(-1)!,
      ) as { key: string }
    ).key;
    replicas.push(...(await Promise.all(dirs.map((d) => serve(d)))));
  });

  after(async () => {
    for (const r of replicas) r.child.kill('SIGTERM');
    await Promise.all(
      replicas.map(
        (r) => new Promise((res) => (r.child.exitCode !== null ? res(null) : r.child.once('close', res))),
      ),
    );
    await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  const issue = async (via: Replica, name: string, plan?: string): Promise<{ id: string; key: string }> => {
    const res = await fetch(`${via.adminUrl}/admin/keys`, {
      method: 'POST',
      headers: auth(admin),
      body: JSON.stringify({ name, role: 'user', ...(plan ? { plan } : {}) }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; key: string };
  };

  it('a key created through the first replica works on the second within 1 s', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const { key } = await issue(a, 'alice');
    const started = performance.now();
    let status = 0;
    while (performance.now() - started < 1000) {
      status = (await fetch(`${b.url}/v1/me`, { headers: auth(key) })).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(
      status,
      200,
      `accepted by the second replica within 1 s (${Math.round(performance.now() - started)} ms)`,
    );
  });

  it('a plan of 10 requests/minute allows 10 in total across both replicas', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const { key } = await issue(a, 'bob', 'tenpm');
    const statuses = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        fetch(`${(i % 2 ? b : a).url}/v1/me`, { headers: auth(key) }).then((r) => r.status),
      ),
    );
    const ok = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    assert.equal(ok, 10, JSON.stringify(statuses));
    assert.equal(limited, 6, JSON.stringify(statuses));
    // 8 requests went to each: with a counter per process every one of them would have passed.
    assert.ok(statuses.filter((s, i) => i % 2 === 0 && s === 200).length >= 2);
    assert.ok(statuses.filter((s, i) => i % 2 === 1 && s === 200).length >= 2);
  });

  it("revoking on one replica closes the other's open WebSocket within 1 s", async () => {
    const [a, b] = replicas as [Replica, Replica];
    const { id, key } = await issue(a, 'carol');
    const ws = new WsClient(`${b.url.replace('http', 'ws')}/v1/ws`, key);
    await ws.opened;
    const revoked = await fetch(`${a.adminUrl}/admin/keys/${id}`, { method: 'DELETE', headers: auth(admin) });
    assert.equal(revoked.status, 200);
    const started = performance.now();
    const closed = await Promise.race([ws.closed, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
    const ms = Math.round(performance.now() - started);
    assert.ok(closed, `closed within 1 s (waited ${ms} ms)`);
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /revoked/);
    assert.equal((await fetch(`${b.url}/v1/me`, { headers: auth(key) })).status, 401);
  });
});

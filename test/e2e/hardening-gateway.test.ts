/**
 * Issue 17 (hardening), gateway findings: each test drives a real gateway over real HTTP or
 * WebSocket clients on 127.0.0.1 and fails on the code before its fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Harness } from './fixtures/gateway.ts';

type Json = { error?: { code: string; message: string; details?: { field?: string } } } & Record<
  string,
  unknown
>;

/** A raw GET (fetch would normalise the path before sending it). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hardening gateway', () => {
  const internal: unknown[] = [];
  let h: Harness;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-console-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    h = await startGateway({ gateway: { consoleDir: dir, onError: (e) => internal.push(e) } });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hardening #7: a malformed percent-escape in the path is 400 and reports nothing internal', async () => {
    for (const path of ['/%E0%A4%A', '/%', '/assets/%ZZ.js', '/%C0%AF']) {
      const res = await rawGet(h.url, path);
      assert.equal(res.status, 400, `${path}: ${res.body}`);
      const body = JSON.parse(res.body) as Json;
      assert.equal(body.error?.code, 'bad_request');
      assert.equal(body.error?.details?.field, 'path');
    }
    // Well-formed paths still work: the app shell for a client-side route, 404 for a missing asset.
    assert.equal((await rawGet(h.url, '/runs/%E2%9C%93')).status, 200);
    assert.equal((await rawGet(h.url, '/missing.js')).status, 404);
    assert.deepEqual(internal, [], 'client errors are never reported as internal errors');
  });

  it('hardening #8: POST /admin/keys validates its body with the keys create schema (400 naming the field)', async () => {
    const admin = await h.key('root', 'admin');
    const post = async (body: string) => {
      const res = await fetch(`${h.adminUrl}/admin/keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin.key}`, 'Content-Type': 'application/json' },
        body,
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const cases: [string, string][] = [
      ['null', 'body'],
      ['[]', 'body'],
      ['"alice"', 'body'],
      ['{"role":"user"}', 'name'],
      ['{"name":"   ","role":"user"}', 'name'],
      ['{"name":"a\\u0000b","role":"user"}', 'name'],
      [JSON.stringify({ name: 'x'.repeat(101), role: 'user' }), 'name'],
      ['{"name":"eve","role":"root"}', 'role'],
      ['{"name":"eve","role":"user","plan":"gold-unlimited"}', 'plan'],
      ['{"name":"eve","role":"user","plan":7}', 'plan'],
      ['{"name":"eve","role":"user","actorId":"bob"}', 'actorId'],
    ];
    for (const [body, field] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, `${body}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error?.details?.field, field, body);
    }
    assert.equal((await post('{"name":')).body.error?.code, 'invalid_json');
    const before = (await h.keys.list()).length;
    assert.equal(before, 1, 'no refused body created a key');
    const ok = await post('{"name":"eve","role":"user","plan":"free"}');
    assert.equal(ok.status, 201);
    assert.equal(ok.body.plan, 'free');
    assert.deepEqual(internal, []);
  });
});

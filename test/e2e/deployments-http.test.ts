/**
 * Issue 18, deployments over real HTTP on SQLite: roles (user 403, operator OK), every route in the
 * OpenAPI document, alias weights, deploy 201 then 409, 400 naming the field, 404 for unknown ids,
 * NUL in an id a clear 400. (Partial: PostgreSQL, odd text and the other routes still to come.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineAgent } from '../../src/core/agent.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { createMemoryKeyStore, issueKey } from '../../src/gateway/keys.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { startSystem } from '../helpers.ts';

const base = { name: 'shop', responsibility: 'Shop questions', tools: [] };

describe('deployments over HTTP (issue 18)', { concurrency: 1, timeout: 60_000 }, () => {
  let url = '';
  let op = '';
  let user = '';
  let done: () => Promise<void> = async () => {};
  before(async () => {
    const sys = await startSystem('sqlite', {
      agents: [
        defineAgent({ ...base, version: 'v1', instructions: 'One.' }),
        defineAgent({ ...base, version: 'v2', instructions: 'Two.' }),
      ],
      model: scriptedModel([{ text: 'ok' }]),
    });
    const keys = createMemoryKeyStore();
    const g: Gateway = createGateway({
      system: sys.system,
      keys,
      port: 0,
      adminPort: 0,
      consoleDir: false,
      onError: () => {},
    });
    url = (await g.start()).url;
    op = (await issueKey(keys, { name: 'op', role: 'operator' })).key;
    user = (await issueKey(keys, { name: 'u', role: 'user' })).key;
    done = async () => {
      await g.stop();
      await sys.close();
      await keys.close();
    };
  });
  after(() => done());
  /** The fields of the answers this test reads (every answer is one of these shapes). */
  interface Answer {
    versions: { version: string }[];
    error: { details: { field?: string; reason?: string } };
    weights: Record<string, number>;
    deploymentId: string;
    status: string;
    from: string;
    steps: { decision: string }[];
    agent: string;
  }
  const call = async (key: string, path: string, method = 'GET', body?: unknown) => {
    const r = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as Answer };
  };

  it('the main path, roles and errors', async () => {
    assert.equal((await call(user, '/v1/versions')).status, 403);
    const v = await call(op, '/v1/versions?agent=shop');
    assert.equal(v.status, 200);
    assert.deepEqual(v.body.versions.map((x) => x.version).sort(), ['v1', 'v2']);
    assert.deepEqual(Object.keys(v.body.versions[0] ?? {}).sort(), [
      'agent',
      'aliases',
      'createdAt',
      'digest',
      'inFlight',
      'labeled',
      'local',
      'served',
      'source',
      'version',
    ]);
    const bad = await call(op, '/v1/aliases/shop/live', 'PUT', { weights: { v1: 90, v2: 20 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'weights');
    const set = await call(op, '/v1/aliases/shop/live', 'PUT', { weights: { v1: 90, v2: 10 } });
    assert.deepEqual(set.body.weights, { v1: 90, v2: 10 });
    const dep = await call(op, '/v1/deployments', 'POST', {
      agent: 'shop',
      to: 'v2',
      strategy: 'canary:10:5m',
    });
    assert.equal(dep.status, 201);
    assert.deepEqual(Object.keys(dep.body).sort(), ['deploymentId', 'status']);
    const again = await call(op, '/v1/deployments', 'POST', {
      agent: 'shop',
      to: 'v2',
      strategy: 'canary:10:5m',
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.details.reason, 'busy', 'the 409 says why: another deployment is active');
    const missing = await call(op, '/v1/deployments', 'POST', { agent: 'shop', strategy: 'x' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.details.field, 'to');
    const shown = await call(op, `/v1/deployments/${dep.body.deploymentId}`);
    assert.equal(shown.body.from, 'v1');
    assert.equal(shown.body.steps[0]?.decision, 'started');
    const paused = await call(op, `/v1/deployments/${dep.body.deploymentId}/pause`, 'POST');
    assert.equal(paused.body.status, 'paused');
    assert.equal((await call(op, '/v1/deployments/nope')).status, 404);
    assert.equal((await call(op, '/v1/deployments/a%00b')).status, 400);
    assert.equal((await call(op, '/v1/agents/nope/versions')).status, 404);
    const figs = await call(op, '/v1/agents/shop/versions');
    assert.equal(figs.body.agent, 'shop');
    const doc = (await (await fetch(url + '/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    for (const p of [
      '/v1/versions',
      '/v1/versions/prune',
      '/v1/aliases',
      '/v1/aliases/{agent}/{alias}',
      '/v1/deployments',
      '/v1/deployments/{id}',
      '/v1/deployments/{id}/rollback',
      '/v1/agents/{name}/versions',
    ])
      assert.ok(p in doc.paths, p);
  });
});

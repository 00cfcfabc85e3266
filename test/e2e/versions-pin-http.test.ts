/**
 * Must-show 4 over real HTTP: `POST /v1/runs` with a `version` (or `agent: "name@version"`) is an
 * operator's act. An operator key's pin is honoured even where the alias gives the version no
 * traffic; a user key's pin is `403 forbidden` and creates no run. The version that ran is read
 * from an independent ledger each version's tool writes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { createMemoryKeyStore, issueKey, type KeyStore } from '../../src/gateway/keys.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import type { Store } from '../../src/store/ports.ts';
import type { System } from '../../src/system.ts';
import { startSystem } from '../helpers.ts';

/** runId → the version whose tool ran in it. */
const ledger = new Map<string, string>();

const shop = (version: string) =>
  defineAgent({
    name: 'shop',
    version,
    responsibility: 'Answer shop questions',
    instructions: `Answer as shop ${version}.`,
    tools: [
      defineTool({
        name: 'record_visit',
        description: 'Record the visit',
        input: z.object({}),
        risk: 'read',
        idempotent: true,
        run: async (_args, ctx) => {
          ledger.set(ctx.runId, version);
          return { version };
        },
      }),
    ],
  });

const model = policyModel(({ prompt }) =>
  toolResults(prompt).length === 0
    ? { toolCalls: [{ toolName: 'record_visit', input: {} }] }
    : { text: 'Thanks for visiting.' },
);

describe('version pins over HTTP', () => {
  let system: System;
  let store: Store;
  let gateway: Gateway;
  let keys: KeyStore;
  let url: string;
  let closeSystem: () => Promise<void>;
  let operator: string;
  let user: string;

  before(async () => {
    ({
      system,
      store,
      close: closeSystem,
    } = await startSystem('sqlite', {
      agents: [shop('v1'), shop('v2')],
      model,
      pollMs: 20,
    }));
    // The live alias sends everything to v1: only a pin can reach v2.
    const written = await store.deployments.setAlias(
      {
        agent: 'shop',
        alias: 'live',
        weights: { v1: 100, v2: 0 },
        updatedAt: store.now(),
        updatedBy: 'test',
      },
      null,
    );
    assert.ok(written);
    keys = createMemoryKeyStore();
    gateway = createGateway({ system, keys, port: 0, adminPort: 0, consoleDir: false, onError: () => {} });
    ({ url } = await gateway.start());
    operator = (await issueKey(keys, { name: 'ops', role: 'operator' })).key;
    user = (await issueKey(keys, { name: 'someone', role: 'user' })).key;
  });
  after(async () => {
    await gateway.stop();
    await closeSystem();
    await keys.close();
  });

  const post = (key: string, json: unknown) =>
    fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(json),
    });

  it('an operator key pins v2 with `version` and with `agent: "shop@v2"`; unpinned runs go to v1', async () => {
    const ran: Record<string, string | undefined> = {};
    for (const [name, body] of Object.entries({
      field: { input: 'Hi', sessionId: 'o1', agent: 'shop', version: 'v2', wait: true },
      ref: { input: 'Hi', sessionId: 'o2', agent: 'shop@v2', wait: true },
      none: { input: 'Hi', sessionId: 'o3', wait: true },
      user: { input: 'Hi', sessionId: 'u0', wait: true },
    })) {
      const res = await post(name === 'user' ? user : operator, body);
      const text = await res.text();
      assert.equal(res.status, 200, `${name}: ${text}`);
      const view = JSON.parse(text) as { runId: string; status: string };
      assert.equal(view.status, 'completed', name);
      ran[name] = ledger.get(view.runId);
    }
    assert.deepEqual(ran, { field: 'v2', ref: 'v2', none: 'v1', user: 'v1' });
  });

  it('a user key pinning a version gets 403 forbidden and no run is created', async () => {
    const runsBefore = (await store.journal.runIds()).length;
    for (const body of [
      { input: 'Hi', sessionId: 'u1', agent: 'shop', version: 'v2' },
      { input: 'Hi', sessionId: 'u2', agent: 'shop@v2' },
      { input: 'Hi', sessionId: 'u3', agent: 'shop@v1' },
    ]) {
      const res = await post(user, body);
      const text = await res.text();
      assert.equal(res.status, 403, `${JSON.stringify(body)}: ${text}`);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'forbidden');
    }
    assert.equal((await store.journal.runIds()).length, runsBefore);
  });

  it('an unknown version is 400 naming the field, for an operator too', async () => {
    const res = await post(operator, { input: 'Hi', sessionId: 'o9', agent: 'shop@v9' });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.match(text, /version/);
  });
});

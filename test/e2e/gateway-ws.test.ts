import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createSqliteKeyStore } from '../../src/gateway/keys.ts';
import type { JournalEvent } from '../../src/core/events.ts';
import { api, gatedTool, orderModel, startGateway, WsClient, type Harness } from './fixtures/gateway.ts';

describe('gateway WebSocket API', () => {
  const gate = gatedTool();
  let h: Harness;
  let alice: { id: string; key: string };

  before(async () => {
    h = await startGateway({ model: orderModel(), tools: [gate.tool], gateway: { heartbeatMs: 200 } });
    alice = await h.key('alice');
  });
  after(async () => {
    gate.release();
    await h.close();
  });

  it('streams the first progress event while the run is still in its tool, and a reconnecting client misses nothing and sees nothing twice', async () => {
    gate.reset();
    const first = new WsClient(h.wsUrl, alice.key);
    await first.opened;
    first.send({
      action: 'sendMessage',
      sessionId: 'ws-1',
      text: 'Where is order 7?',
      clientMessageId: 'm1',
    });
    const accepted = await first.next((f) => f.type === 'accepted');
    const runId = String(accepted.runId);
    await first.next((f) => f.type === 'event' && (f.event as JournalEvent).type === 'progress');
    // Progress is streamed as it happens: the run has not finished (its tool is held by the gate).
    assert.equal((await h.system.get(runId)).status, 'running');
    // The run is held inside its tool: disconnect, let it finish, reconnect from the last seq seen.
    const seen = first.events(runId);
    first.close();
    await first.closed;
    gate.release();
    await h.system.wait(runId);

    const second = new WsClient(h.wsUrl, alice.key);
    await second.opened;
    const lastSeq = seen.at(-1)!.seq;
    second.send({ action: 'subscribe', runId, after: lastSeq });
    await second.next((f) => f.type === 'end' && f.runId === runId);
    const missed = second.events(runId);
    const journal = await h.system.store.journal.read(runId);
    assert.deepEqual(
      [...seen, ...missed].map((e) => e.seq),
      journal.map((e) => e.seq),
    );
    assert.equal(missed.at(-1)?.type, 'run.completed');
    second.close();
  });

  it('deduplicates sendMessage by clientMessageId and sends heartbeats while a run is silent', async () => {
    gate.reset();
    const c = new WsClient(h.wsUrl, alice.key);
    await c.opened;
    c.send({ action: 'sendMessage', sessionId: 'ws-2', text: 'order 7?', clientMessageId: 'dup' });
    const a = await c.next((f) => f.type === 'accepted');
    const beat = await c.next((f) => f.type === 'heartbeat' && f.runId === a.runId);
    assert.equal(typeof beat.message, 'string');
    assert.ok(
      !(await h.system.store.journal.read(String(a.runId))).some((e) => e.type === ('heartbeat' as string)),
    );
    c.send({ action: 'sendMessage', sessionId: 'ws-2', text: 'order 7?', clientMessageId: 'dup' });
    const b = await c.next((f) => f.type === 'accepted');
    assert.equal(b.runId, a.runId);
    assert.equal(b.deduplicated, true);
    gate.release();
    await c.next((f) => f.type === 'end' && f.runId === a.runId);
    c.close();
  });

  it('routes on action: ping, unknown action → error frame, malformed JSON → error frame, repeated abuse → 1008', async () => {
    const c = new WsClient(h.wsUrl, alice.key);
    await c.opened;
    c.send({ action: 'ping', id: 1 });
    assert.deepEqual((await c.next((f) => f.type === 'pong')).id, 1);
    c.send({ action: 'dance' });
    const unknown = await c.next((f) => f.type === 'error');
    assert.equal(unknown.code, 'unknown_action');
    c.send({ action: 'subscribe', runId: 42 });
    const bad = await c.next((f) => f.type === 'error');
    assert.equal(bad.code, 'bad_request');
    assert.equal(bad.field, 'runId');
    c.send({ action: 'subscribe', runId: 'run_of_nobody' });
    assert.equal((await c.next((f) => f.type === 'error')).code, 'not_found');
    c.ws.send('{not json');
    assert.equal((await c.next((f) => f.type === 'error')).code, 'malformed_json');
    for (let i = 0; i < 5; i++) c.ws.send('{not json');
    assert.equal((await c.closed).code, 1008);
  });

  it('refuses unauthenticated upgrades and accepts a single-use ticket', async () => {
    const anon = new WsClient(h.wsUrl);
    await assert.rejects(anon.opened, /401/);
    const res = await api(h, alice.key)('/v1/ws-ticket', { method: 'POST' });
    assert.equal(res.status, 201);
    const { ticket } = (await res.json()) as { ticket: string };
    const viaTicket = new WsClient(`${h.wsUrl}?ticket=${ticket}`);
    await viaTicket.opened;
    viaTicket.close();
    await assert.rejects(new WsClient(`${h.wsUrl}?ticket=${ticket}`).opened, /401/);
  });

  it('closes 1009 for a 1 MB message and for a frame over 32 KB, and 1007 for invalid UTF-8', async () => {
    const big = new WsClient(h.wsUrl, alice.key);
    await big.opened;
    big.ws.send(JSON.stringify({ action: 'ping', pad: 'x'.repeat(1024 * 1024) }));
    assert.equal((await big.closed).code, 1009);

    const frame = new WsClient(h.wsUrl, alice.key);
    await frame.opened;
    frame.ws.send(JSON.stringify({ action: 'ping', pad: 'x'.repeat(40 * 1024) }));
    assert.equal((await frame.closed).code, 1009);

    const fragmented = new WsClient(h.wsUrl, alice.key);
    await fragmented.opened;
    // 3 frames of 20 KB: each frame is within 32 KB and the message within 128 KB.
    const part = 'x'.repeat(20 * 1024);
    fragmented.ws.send(`{"action":"ping","id":"f","pad":"${part}`, { fin: false });
    fragmented.ws.send(part, { fin: false });
    fragmented.ws.send(`${part}"}`, { fin: true });
    const error = await fragmented.next((f) => f.type === 'error' || f.type === 'pong');
    assert.equal(error.code, 'bad_request'); // reached the router (pad is not a ping field)
    fragmented.close();

    const utf8 = new WsClient(h.wsUrl, alice.key);
    await utf8.opened;
    utf8.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal((await utf8.closed).code, 1007);
  });

  it('closes a slow consumer with 1013 and keeps its send buffer bounded', async () => {
    const limit = 256 * 1024;
    const slow = await startGateway({
      model: orderModel(),
      tools: [gate.tool],
      gateway: { limits: { sendBufferBytes: limit } },
    });
    try {
      gate.release();
      // Unlimited plan: every subscribe is metered, and 400 of them must reach the handler here.
      const key = await slow.key('slowpoke', 'user', 'unlimited');
      const { runId } = await slow.system.submit({
        actorId: 'slowpoke',
        sessionId: 's',
        input: 'y'.repeat(90_000),
      });
      await slow.system.wait(runId);
      const c = new WsClient(slow.wsUrl, key.key);
      await c.opened;
      c.ws.pause(); // stop reading: the server's buffer for this client can only grow
      const flagged = once(slow.gateway.events, 'slow-consumer');
      for (let i = 0; i < 400; i++) c.send({ action: 'subscribe', runId, after: 0 });
      const [detail] = (await flagged) as [{ bufferedAmount: number }];
      assert.ok(detail.bufferedAmount > limit);
      // Bounded: the buffer never exceeded the limit by more than one frame (~ one journal event).
      assert.ok(
        slow.gateway.stats().maxWsBuffered <= limit + 200 * 1024,
        `buffered ${slow.gateway.stats().maxWsBuffered}`,
      );
      c.ws.resume();
      assert.equal((await c.closed).code, 1013);
    } finally {
      await slow.close();
    }
  });

  it('closes open connections of a revoked key, revoked from another process’s store handle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-keys-'));
    const keys = createSqliteKeyStore({ path: join(dir, 'gateway.db') });
    const g = await startGateway({ keys });
    const cli = createSqliteKeyStore({ path: join(dir, 'gateway.db') }); // as `switchboard keys revoke` would
    try {
      const k = await g.key('mallory');
      const c = new WsClient(g.wsUrl, k.key);
      await c.opened;
      c.send({ action: 'ping' });
      await c.next((f) => f.type === 'pong');
      await cli.revoke(k.id, Date.now());
      // Closed by the revocation sweep, without any message from the client.
      const closed = await c.closed;
      assert.equal(closed.code, 1008);
      assert.equal((await api(g, k.key)('/v1/agents')).status, 401);
      await assert.rejects(new WsClient(g.wsUrl, k.key).opened, /401/);
    } finally {
      await cli.close();
      await g.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps open connections per key', async () => {
    const g = await startGateway();
    try {
      const k = await g.key('few', 'user', 'free'); // free plan: 2 connections
      const a = new WsClient(g.wsUrl, k.key);
      const b = new WsClient(g.wsUrl, k.key);
      await Promise.all([a.opened, b.opened]);
      await assert.rejects(new WsClient(g.wsUrl, k.key).opened, /429/);
      a.close();
      b.close();
    } finally {
      await g.close();
    }
  });

  it('follows a session: runs submitted over HTTP reach a session subscriber', async () => {
    const c = new WsClient(h.wsUrl, alice.key);
    await c.opened;
    c.send({ action: 'subscribe', sessionId: 'shared' });
    await c.next((f) => f.type === 'subscribed');
    gate.release();
    const res = await api(h, alice.key)('/v1/runs', {
      method: 'POST',
      json: { input: 'order?', sessionId: 'shared' },
    });
    const { runId } = (await res.json()) as { runId: string };
    await c.next((f) => f.type === 'end' && f.runId === runId);
    assert.equal(c.events(runId)[0]?.seq, 1);
    c.close();
  });
});

void WebSocket;

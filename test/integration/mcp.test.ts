/**
 * MCP tools through real agents, with a real MCP server process over stdio
 * (test/fixtures/mcp/server.ts): tools listed and risk-classed, JSON Schema input validated, the
 * allowlist enforced, a server killed mid-call → retryable tool error → success after reconnect, a
 * server down at start-up, and one-line config errors. Nothing sleeps: tests wait on journal events,
 * server stderr lines and status callbacks.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defineAgent } from '../../src/core/agent.ts';
import { ConfigError, ToolError } from '../../src/core/errors.ts';
import { parseMcpConfig, type McpConfig } from '../../src/mcp/config.ts';
import type { McpServerStatus } from '../../src/mcp/connection.ts';
import { connectMcp, type McpTools } from '../../src/mcp/tools.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { journal, ofType, startSystem } from '../helpers.ts';

const SERVER = fileURLToPath(new URL('../fixtures/mcp/server.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sb-mcp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const notesServer = (env: Record<string, string> = {}) => ({
  command: process.execPath,
  args: [SERVER],
  env,
});

const config = (env: Record<string, string> = {}): McpConfig =>
  parseMcpConfig({
    servers: { notes: notesServer(env) },
    agents: {
      notes: ['notes/get_note', 'notes/add_note', 'notes/delete_note'],
      reader: ['notes/get_note'],
    },
  });

const ctx = (signal = new AbortController().signal) => ({
  runId: 'r',
  callId: 'c',
  idempotencyKey: 'r:c',
  attempt: 1,
  actorId: 'a',
  sessionId: 's',
  agent: 'notes',
  signal,
  progress: () => {},
  traceHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});

/** Resolve when `pred` holds for a status the hub reports. */
function statusWaiter(): {
  onStatus: (s: McpServerStatus) => void;
  until: (pred: (s: McpServerStatus) => boolean) => Promise<McpServerStatus>;
} {
  const seen: McpServerStatus[] = [];
  const waiters: { pred: (s: McpServerStatus) => boolean; resolve: (s: McpServerStatus) => void }[] = [];
  return {
    onStatus: (s) => {
      seen.push(s);
      for (const w of [...waiters])
        if (w.pred(s)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(s);
        }
    },
    until: (pred) => {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

describe('MCP tools from a stdio server', () => {
  it('lists tools, maps annotations to risk, validates JSON Schema input, exposes only allowlisted tools', async () => {
    const mcp = await connectMcp(config());
    try {
      const [status] = mcp.status();
      assert.equal(status?.state, 'connected');
      assert.equal(status?.transport, 'stdio');
      assert.deepEqual(status?.tools.sort(), ['add_note', 'delete_note', 'get_note', 'wipe_all_notes']);
      // wipe_all_notes is on the server but no agent lists it: it is not exposed at all.
      assert.deepEqual(
        mcp.exposed().map((t) => [t.name, t.risk, t.available]),
        [
          ['get_note', 'read', true],
          ['add_note', 'write', true],
          ['delete_note', 'write', true],
        ],
      );
      assert.deepEqual(
        mcp.toolsFor('reader').map((t) => t.name),
        ['get_note'],
      );
      assert.deepEqual(mcp.toolsFor('nobody'), []);
      const [get, add] = mcp.toolsFor('notes');
      assert.ok(get && add);
      assert.equal(get.idempotent, true);
      assert.equal(add.idempotent, false);
      assert.equal(get.description, 'Read a note by id');
      assert.equal(get.input.safeParse({ id: 'n1' }).success, true);
      assert.equal(get.input.safeParse({ id: 'x1' }).success, false, 'pattern');
      assert.equal(get.input.safeParse({ id: 'n1', extra: 1 }).success, false, 'additionalProperties');
      assert.equal(add.input.safeParse({ text: '' }).success, false, 'minLength');
      assert.equal(await get.run({ id: 'n1' }, ctx()), 'Call the carrier about ORD-42');
      await assert.rejects(
        async () => void (await get.run({ id: 'n9' }, ctx())),
        (e: unknown) => e instanceof ToolError && !e.retryable && /no note n9/.test(e.message),
      );
    } finally {
      await mcp.close();
    }
  });

  it('runs an MCP tool through an agent; the allowlist and the schema are enforced', async () => {
    const mcp = await connectMcp(config());
    const model = scriptedModel([
      { toolCalls: [{ toolName: 'get_note', input: { id: 'n1' } }] },
      { toolCalls: [{ toolName: 'wipe_all_notes', input: {} }] },
      { toolCalls: [{ toolName: 'get_note', input: { id: 'note-1' } }] },
      { text: 'Your note says to call the carrier.' },
    ]);
    const reader = defineAgent({
      name: 'reader',
      responsibility: 'Read notes',
      instructions: 'Read notes.',
      tools: mcp.toolsFor('reader'),
    });
    const { system, close } = await startSystem('memory', { agents: [reader], model });
    try {
      const { runId } = await system.submit({
        actorId: 'u',
        sessionId: 's',
        input: 'What does my note say?',
      });
      const run = await system.wait(runId);
      assert.equal(run.status, 'completed');
      const events = await journal(system, runId);
      assert.deepEqual(
        ofType(events, 'tool.succeeded').map((e) => [e.data.tool, e.data.result]),
        [['get_note', 'Call the carrier about ORD-42']],
      );
      const denied = ofType(events, 'tool.denied');
      assert.deepEqual(
        denied.map((e) => [e.data.tool, e.data.reason]),
        [
          ['wipe_all_notes', 'not-permitted'],
          ['get_note', 'invalid-arguments'],
        ],
      );
      assert.match(denied[1]?.data.message ?? '', /id/);
      // The model was shown only the allowlisted tool.
      assert.deepEqual(model.calls[0]?.tools, ['get_note']);
    } finally {
      await close();
      await mcp.close();
    }
  });

  it('a server killed mid-call gives a retryable error, reconnects, and the run succeeds', async () => {
    const marker = join(dir, 'held-once');
    const waiter = statusWaiter();
    const killed: number[] = [];
    const mcp: McpTools = await connectMcp(config({ NOTES_HOLD_ONCE: marker }), {
      onStatus: waiter.onStatus,
      reconnect: { initialDelayMs: 20 },
      onStderr: (_server, line) => {
        const m = /^CALLED add_note (\d+)$/.exec(line);
        // Kill the process holding the first add_note: the call is in flight.
        if (m && killed.length === 0) {
          killed.push(Number(m[1]));
          process.kill(Number(m[1]), 'SIGKILL');
        }
      },
    });
    const firstPid = mcp.status()[0]?.pid;
    assert.ok(firstPid);
    const model = scriptedModel([
      { toolCalls: [{ toolName: 'get_note', input: { id: 'n1' } }] },
      { toolCalls: [{ toolName: 'add_note', input: { text: 'Carrier called' } }] },
      { text: 'Saved.' },
    ]);
    const agent = defineAgent({
      name: 'notes',
      responsibility: 'Keep notes',
      instructions: 'Keep notes.',
      tools: mcp.toolsFor('notes'),
    });
    const { system, close } = await startSystem('memory', { agents: [agent], model });
    try {
      const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'Note that I called' });
      const run = await system.wait(runId);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.output, 'Saved.');
      assert.deepEqual(killed, [firstPid]);
      assert.ok(existsSync(marker));
      const events = await journal(system, runId);
      const failed = ofType(events, 'tool.failed');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.data.tool, 'add_note');
      assert.equal(failed[0]?.data.retryable, true);
      assert.equal(failed[0]?.data.attempt, 1);
      assert.match(
        failed[0]?.data.error.message ?? '',
        /MCP server "notes" (dropped the connection|is unavailable)/,
      );
      const added = ofType(events, 'tool.succeeded').find((e) => e.data.tool === 'add_note');
      assert.equal(added?.data.attempt, 2);
      const result = added?.data.result as { id: string; pid: number };
      assert.notEqual(result.pid, firstPid, 'answered by the restarted server');
      await waiter.until((s) => s.state === 'down');
      const now = mcp.status()[0];
      assert.equal(now?.state, 'connected');
      assert.equal(now?.pid, result.pid);
    } finally {
      await close();
      await mcp.close();
    }
  });

  it('a server down at start-up: its tools fail retryably, then work once it comes up', async () => {
    const ready = join(dir, 'notes-ready');
    const waiter = statusWaiter();
    const mcp = await connectMcp(config({ NOTES_REQUIRE: ready }), {
      onStatus: waiter.onStatus,
      reconnect: { initialDelayMs: 60_000 },
      callWaitMs: 10_000,
    });
    try {
      const [status] = mcp.status();
      assert.equal(status?.state, 'down');
      assert.ok(status?.error, 'why it is down');
      assert.deepEqual(
        mcp.exposed().map((t) => [t.name, t.available]),
        [
          ['get_note', false],
          ['add_note', false],
          ['delete_note', false],
        ],
      );
      const get = mcp.toolsFor('reader')[0];
      assert.ok(get);
      assert.equal(get.risk, 'write', 'unknown annotations → write');
      await assert.rejects(
        async () => void (await get.run({ id: 'n1' }, ctx())),
        (e: unknown) =>
          e instanceof ToolError && e.retryable && /MCP server "notes" is unavailable/.test(e.message),
      );
      // The server comes up: the next call reconnects at once (not at the far-off backoff) and
      // validates against the schema it now knows.
      writeFileSync(ready, 'ok');
      assert.equal(await get.run({ id: 'n1' }, ctx()), 'Call the carrier about ORD-42');
      await assert.rejects(
        async () => void (await get.run({ id: 'bad' }, ctx())),
        (e: unknown) =>
          e instanceof ToolError && !e.retryable && /Invalid arguments for get_note/.test(e.message),
      );
      assert.equal(mcp.status()[0]?.state, 'connected');
      await waiter.until((s) => s.state === 'connected');
    } finally {
      await mcp.close();
    }
  });

  it('bad MCP config fails at start-up with one line naming the key', async () => {
    const bad: [unknown, RegExp][] = [
      [{ servers: { notes: { command: '' } } }, /^mcp\.servers\.notes\.command: /],
      [{ servers: { notes: { url: 'ftp://x' } } }, /^mcp\.servers\.notes/],
      [
        { servers: {}, agents: { reader: ['notes/get_note'] } },
        /^mcp\.agents\.reader: "notes\/get_note" names unknown MCP server "notes"$/,
      ],
      [
        { servers: { notes: notesServer() }, agents: { reader: ['get_note'] } },
        /^mcp\.agents\.reader\.0: entries are server\/tool$/,
      ],
    ];
    for (const [raw, message] of bad) {
      assert.throws(
        () => parseMcpConfig(raw),
        (e: unknown) => e instanceof ConfigError && !e.message.includes('\n') && message.test(e.message),
        JSON.stringify(raw),
      );
    }
    await assert.rejects(
      connectMcp(
        parseMcpConfig({ servers: { notes: notesServer() }, agents: { reader: ['notes/get_nite'] } }),
      ),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message ===
          'mcp.agents.reader: MCP server "notes" offers no tool "get_nite" (it offers: get_note, delete_note, add_note, wipe_all_notes)',
    );
  });
});

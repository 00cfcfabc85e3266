/**
 * `mcp-serve`: an agent's tools served over stdio by a real process (test/fixtures/mcp/serve-agent.ts),
 * called by a plain MCP client and by Switchboard's own MCP tools — validation, policy refusals and
 * approval refusals applied before any tool runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ToolError } from '../../src/core/errors.ts';
import { parseMcpConfig } from '../../src/mcp/config.ts';
import { connectMcp } from '../../src/mcp/tools.ts';

const SERVE = fileURLToPath(new URL('../fixtures/mcp/serve-agent.ts', import.meta.url));

describe('mcp-serve: an agent’s governed tools over stdio', () => {
  const client = new Client({ name: 'test', version: '1' });
  const logs: string[] = [];
  before(async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [SERVE, 'billing'],
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (c: Buffer) => logs.push(c.toString()));
    await client.connect(transport);
  });
  after(() => client.close());

  const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = (r: CallToolResult): string =>
    r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

  it('lists the tools with JSON Schemas and risk as annotations', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => [
        t.name,
        t.annotations?.readOnlyHint,
        t.annotations?.destructiveHint,
        t.annotations?.idempotentHint,
      ]),
      [
        ['lookup_invoice', true, false, true],
        ['refund_invoice', false, true, false],
        ['void_invoice', false, true, false],
      ],
    );
    const lookup = tools[0]?.inputSchema as {
      type: string;
      properties: Record<string, { pattern?: string }>;
      required: string[];
    };
    assert.equal(lookup.type, 'object');
    assert.equal(lookup.properties.number?.pattern, '^INV-\\d+$');
    assert.deepEqual(lookup.required, ['number']);
  });

  it('runs a valid call and returns text and structured content', async () => {
    const r = await call('lookup_invoice', { number: 'INV-7' });
    assert.equal(r.isError, undefined);
    assert.deepEqual(r.structuredContent, { number: 'INV-7', amount: 120, status: 'paid' });
    assert.deepEqual(JSON.parse(text(r)), { number: 'INV-7', amount: 120, status: 'paid' });
  });

  it('refuses invalid arguments, policy-denied calls and calls needing approval, without running them', async () => {
    const invalid = await call('lookup_invoice', { number: '7' });
    assert.equal(invalid.isError, true);
    assert.match(text(invalid), /^Invalid arguments for lookup_invoice: /);
    const denied = await call('void_invoice', { number: 'INV-7' });
    assert.equal(denied.isError, true);
    assert.equal(text(denied), 'Policy refused void_invoice: voids go through finance.');
    const big = await call('refund_invoice', { number: 'INV-7', amount: 500 });
    assert.equal(big.isError, true);
    assert.match(text(big), /needs a human approver \(refunds over 100 need approval \(asked 500\)\)/);
    const small = await call('refund_invoice', { number: 'INV-7', amount: 20 });
    assert.deepEqual(small.structuredContent, { refunded: 20, number: 'INV-7' });
    const unknown = await call('drop_tables', {});
    assert.equal(unknown.isError, true);
    assert.match(text(unknown), /Unknown tool "drop_tables"/);
  });

  it('is usable as an MCP server by another Switchboard (risk survives the round trip)', async () => {
    const mcp = await connectMcp(
      parseMcpConfig({
        servers: { billing: { command: process.execPath, args: [SERVE] } },
        agents: { support: ['billing/lookup_invoice', 'billing/refund_invoice'] },
      }),
    );
    try {
      const [lookup, refund] = mcp.toolsFor('support');
      assert.equal(lookup?.risk, 'read');
      assert.equal(refund?.risk, 'write');
      const ctx = {
        runId: 'r',
        callId: 'c',
        idempotencyKey: 'r:c',
        attempt: 1,
        actorId: 'a',
        sessionId: 's',
        agent: 'support',
        signal: new AbortController().signal,
        progress: () => {},
        traceHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      };
      assert.deepEqual(await lookup?.run({ number: 'INV-9' }, ctx), {
        number: 'INV-9',
        amount: 120,
        status: 'paid',
      });
      await assert.rejects(
        async () => void (await refund?.run({ number: 'INV-9', amount: 900 }, ctx)),
        (e: unknown) => e instanceof ToolError && !e.retryable && /needs a human approver/.test(e.message),
      );
    } finally {
      await mcp.close();
    }
  });

  it('logs each call on stderr, never on stdout', () => {
    const all = logs.join('');
    assert.match(all, /serving 3 tools of agent billing on stdio/);
    assert.match(all, /lookup_invoice ok/);
  });
});

/**
 * `switchboard doctor`: the configured model provider and MCP servers, and whether each answers —
 * against a local chat-completions server, the stdio notes server, and servers that are down.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { doctorCommand } from '../../src/mcp/doctor.ts';

const SERVER = fileURLToPath(new URL('../fixtures/mcp/server.ts', import.meta.url));

describe('switchboard doctor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-doctor-'));
  const llm = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'llama3.1',
          // The doctor's probe requires a tool call (issue 22 item 6).
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                tool_calls: [
                  {
                    id: 'c1',
                    type: 'function',
                    function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                  },
                ],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
        }),
      );
    });
  });
  let llmUrl = '';
  let closedPort = 0;
  before(async () => {
    await new Promise<void>((r) => llm.listen(0, '127.0.0.1', r));
    llmUrl = `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  after(async () => {
    llm.closeAllConnections();
    await new Promise<void>((r) => llm.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const mcpFile = (config: unknown): string => {
    const path = join(dir, `mcp-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(config));
    return path;
  };

  it('prints the provider, its endpoint and credentials, and each MCP server’s answer, in one screen', async () => {
    const path = mcpFile({
      servers: {
        notes: { command: process.execPath, args: [SERVER] },
        search: { url: `http://127.0.0.1:${closedPort}/mcp` },
      },
      agents: { support: ['notes/get_note', 'notes/get_nite', 'search/web'] },
    });
    const { text, exitCode } = await doctorCommand(
      { timeoutMs: 5000 },
      {
        SWITCHBOARD_MODEL: `openai-compatible:${llmUrl}#llama3.1`,
        SWITCHBOARD_MCP_CONFIG: path,
        SWITCHBOARD_MODEL_RPM: '30',
      },
    );
    const lines = text.split('\n');
    assert.ok(lines.length <= 24, `one screen:\n${text}`);
    assert.equal(lines[0], `model   openai-compatible:llama3.1  →  ${llmUrl}  (credentials: none)`);
    assert.match(
      lines[1] ?? '',
      /^ {8}ok {4}called the probe tool in \d+ ms: get_weather\(\{"city":"Paris"\}\)$/,
    );
    assert.equal(lines[2], '        timeout 60000 ms, 3 retries, 30 requests/min');
    assert.equal(lines[3], `mcp     2 servers in ${path}`);
    assert.match(
      text,
      /notes {3}stdio .*server\.ts\n {10}ok {4}4 tools in \d+ ms; used by support\n {10}FAIL {2}allowlisted but not offered: notes\/get_nite/,
    );
    assert.match(
      text,
      new RegExp(
        `search {2}http  http://127\\.0\\.0\\.1:${closedPort}/mcp\\n {10}FAIL {2}fetch failed \\(ECONNREFUSED\\)`,
      ),
    );
    assert.equal(lines.at(-1), 'some checks failed');
    assert.equal(exitCode, 1);
  });

  it('passes with the offline model and no MCP, and reports a bad config as a line', async () => {
    const fine = await doctorCommand({}, {});
    assert.equal(fine.exitCode, 0);
    assert.equal(
      fine.text,
      [
        'model   offline (SWITCHBOARD_MODEL is unset: the built-in offline model, no LLM)',
        'mcp     none (SWITCHBOARD_MCP_CONFIG is unset)',
        'all checks passed',
      ].join('\n'),
    );
    const bad = await doctorCommand(
      {},
      { SWITCHBOARD_MODEL: 'openai:gpt-4o', SWITCHBOARD_MCP_CONFIG: join(dir, 'nope.json') },
    );
    assert.equal(bad.exitCode, 1);
    const [model, mcp] = bad.text.split('\n');
    assert.match(model ?? '', /^model {3}FAIL {2}SWITCHBOARD_MODEL: openai needs OPENAI_API_KEY/);
    assert.match(mcp ?? '', /^mcp {5}FAIL {2}SWITCHBOARD_MCP_CONFIG: cannot read .*nope\.json/);
  });

  it('says when the provider does not answer', async () => {
    const { text, exitCode } = await doctorCommand(
      { timeoutMs: 5000 },
      { SWITCHBOARD_MODEL: `openai-compatible:http://127.0.0.1:${closedPort}/v1#m` },
    );
    assert.equal(exitCode, 1);
    assert.match(
      text.split('\n')[1] ?? '',
      /^ {8}FAIL {2}transient: openai-compatible\.chat model m is unreachable: /,
    );
  });
});

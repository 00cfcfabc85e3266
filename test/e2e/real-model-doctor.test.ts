/**
 * Issue 22 item 6 (must-show 3): the real `switchboard doctor` against the llama-server fixture,
 * through SWITCHBOARD_MODEL=openai-compatible:…. The probe offers one tool and must get a call of
 * it: a server without tool support (llama-server without `--jinja`) or a model that answers
 * with text exits non-zero with the reason; a server that calls the tool exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startLlmServer, type LlmServer, type LlmServerOptions } from '../fixtures/services/llm-server.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
/** A project of the tests' own (the doctor reads its configuration); the model comes from the environment. */
const CONFIG = fileURLToPath(new URL('../fixtures/projects/library/switchboard.config.ts', import.meta.url));

function doctor(url: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'doctor', '--timeout', '20000', '--config', CONFIG], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: cwd,
        SWITCHBOARD_MODEL: `openai-compatible:${url}#qwen2-tiny`,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('issue 22 item 6: switchboard doctor probes tool calling', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-doctor-real-'));
  const servers: LlmServer[] = [];
  const serve = async (o: LlmServerOptions): Promise<LlmServer> => {
    const s = await startLlmServer(o);
    servers.push(s);
    return s;
  };
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a server without tool support: exit 1, "tool calling not supported by this endpoint" with the --jinja hint', async () => {
    const server = await serve({ noToolSupport: true });
    const r = await doctor(server.url, dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /FAIL {2}tool calling not supported by this endpoint: .*tools param requires --jinja flag/,
    );
    assert.match(r.stdout, /start llama-server with --jinja/);
    assert.match(r.stdout, /some checks failed/);
    assert.equal(server.requests.length, 1, 'one probe, not retried');
    assert.equal(server.requests[0]?.tools?.[0]?.function.name, 'get_weather');
    assert.equal(server.requests[0]?.tool_choice, 'required');
  });

  it('a model that answers with text instead of calling the tool: exit 1 with the reason', async () => {
    const server = await serve({ script: () => ({ text: 'The weather is nice.' }) });
    const r = await doctor(server.url, dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /tool calling not supported by this endpoint: asked to call get_weather, the model answered with text: "The weather is nice\."/,
    );
    assert.match(r.stdout, /--jinja/);
  });

  it('a model whose call has arguments that are not JSON: exit 1', async () => {
    const server = await serve({
      script: () => ({ finishLength: { toolCall: { name: 'get_weather', arguments: '{"city": "Par' } } }),
    });
    const r = await doctor(server.url, dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /called get_weather with arguments that are not a JSON object: \{"city": "Par/);
  });

  it('a server that calls the tool: exit 0, the call shown', async () => {
    const server = await serve({});
    const r = await doctor(server.url, dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ok {4}called the probe tool in \d+ ms: get_weather\(\{\}\)/);
    assert.match(r.stdout, /all checks passed/);
  });
});

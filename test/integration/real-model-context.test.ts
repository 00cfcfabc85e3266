/**
 * Issue 22 item 2 (and must-show 2): the context budget, through the real CLI against the fixture
 * chat-completions server (8k context, `SWITCHBOARD_MODEL=openai-compatible:…`,
 * `SWITCHBOARD_MODEL_CONTEXT_TOKENS=8192`). Tools return 50 KB results; the prompt is fitted before
 * it is sent, so the server's context check never fires; when even the smallest prompt cannot fit,
 * the run fails with ContextBudgetError and the server is never called; a parent whose delegated
 * run failed that way is told so in a failed tool result.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startLlmServer, type ChatRequest, type LlmServer } from '../fixtures/services/llm-server.ts';
import { realModelCli } from '../fixtures/services/real-model-cli.ts';
import { defineAgent } from '../../src/core/agent.ts';
import { createModelFromEnv } from '../../src/models/providers.ts';
import { journal, ofType, startSystem } from '../helpers.ts';

const overflows = (s: LlmServer): number =>
  s.answers.filter((a) => a.status === 400 && /exceeds the available context size/.test(a.error ?? ''))
    .length;

const toolMessages = (req: ChatRequest | undefined): string[] =>
  (req?.messages ?? [])
    .filter((m) => m.role === 'tool')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));

describe('issue 22 #2: the context budget against an 8k-context server', { timeout: 300_000 }, () => {
  const servers: LlmServer[] = [];
  const cleanups: (() => void)[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    for (const c of cleanups) c();
  });

  it('a run whose tools return 50 KB results completes, no request overflows, and the trace says what was trimmed', async () => {
    const server = await startLlmServer({
      contextTokens: 8192,
      script: (_req, n) =>
        n === 0
          ? {
              toolCalls: [
                { name: 'fetch_records', arguments: '{"customer":"A"}' },
                { name: 'fetch_records', arguments: '{"customer":"B"}' },
              ],
            }
          : n === 1
            ? { toolCalls: [{ name: 'fetch_records', arguments: '{"customer":"C"}' }] }
            : { text: 'Customers A, B and C have 3 shipped orders in the records shown.' },
    });
    servers.push(server);
    const cli = realModelCli(server.url, { SWITCHBOARD_MODEL_CONTEXT_TOKENS: '8192' });
    cleanups.push(cli.cleanup);
    const { code, run, stderr } = await cli.submit('What did customers A, B and C order?', 'archive');
    assert.equal(run.status, 'completed', stderr);
    assert.equal(code, 0);
    assert.equal(server.requests.length, 3);
    assert.equal(overflows(server), 0, 'the server never refused a request for its size');
    for (const req of server.requests) assert.ok(server.countPrompt(req) <= 8192);
    // The model saw cut results that say where the whole result is.
    const last = toolMessages(server.requests[2]);
    assert.equal(last.length, 3);
    for (const [i, call] of ['s1c1', 's1c2', 's2c1'].entries())
      assert.match(last[i] ?? '', new RegExp(`truncated to fit .* run ${run.runId}, call ${call}\\]`));
    const trace = await cli.run(['trace', run.runId]);
    assert.equal(trace.code, 0, trace.stderr);
    assert.match(trace.stdout, /context: \d+ of 5734 prompt tokens \(window 8192\)/);
    for (const call of ['s1c1', 's1c2', 's2c1'])
      assert.match(
        trace.stdout,
        new RegExp(`trimmed: fetch_records result of call ${call} cut to \\d+ of \\d+ characters`),
      );
    // The journal keeps the whole result.
    assert.match(trace.stdout, /tool fetch_records succeeded/);
  });

  it('fails with ContextBudgetError, sending nothing, when even the smallest prompt does not fit', async () => {
    const server = await startLlmServer({ contextTokens: 8192 });
    servers.push(server);
    const cli = realModelCli(server.url, { SWITCHBOARD_MODEL_CONTEXT_TOKENS: '8192', INSTRUCTIONS_KB: '40' });
    cleanups.push(cli.cleanup);
    const { code, run } = await cli.submit('What did customer A order?', 'archive');
    assert.equal(run.status, 'failed');
    assert.equal(code, 1);
    const error = run.error as { name: string; code: string; message: string };
    assert.equal(error.name, 'ContextBudgetError');
    assert.equal(error.code, 'context_budget');
    assert.match(error.message, /needs \d+ tokens, more than the 5734/);
    assert.equal(server.requests.length, 0, 'no request the server would refuse was sent');
    const trace = await cli.run(['trace', run.runId]);
    assert.match(trace.stdout, /failed: ContextBudgetError: context budget/);
  });

  it('a parent whose delegated run failed with ContextBudgetError gets a failed tool result saying so', async () => {
    const server = await startLlmServer({
      contextTokens: 8192,
      script: (_req, n) =>
        n === 0
          ? { toolCalls: [{ name: 'delegate_to_archive', arguments: '{"task":"Orders of customer A"}' }] }
          : { text: 'I could not look the orders up.' },
    });
    servers.push(server);
    const cli = realModelCli(server.url, { SWITCHBOARD_MODEL_CONTEXT_TOKENS: '8192', INSTRUCTIONS_KB: '40' });
    cleanups.push(cli.cleanup);
    const { run } = await cli.submit('What did customer A order?', 'triage');
    assert.equal(run.status, 'completed');
    // Two requests, both the parent's: the child failed before it sent anything.
    assert.equal(server.requests.length, 2);
    assert.equal(overflows(server), 0);
    const [result] = toolMessages(server.requests[1]);
    assert.match(result ?? '', /delegated run failed \(ContextBudgetError\): context budget/);
  });

  it('leaves the oldest memory turns out first, before cutting anything', async () => {
    const long = (n: number): string =>
      `Answer ${n}: ${Array.from({ length: 120 }, (_, i) => `item ${n}-${i} is fine`).join(', ')}.`;
    const server = await startLlmServer({
      script: (_req, n) => ({ text: n < 4 ? long(n) : 'Short answer.' }),
    });
    servers.push(server);
    const model = createModelFromEnv({ SWITCHBOARD_MODEL: `openai-compatible:${server.url}#qwen2-tiny` });
    const agent = defineAgent({
      name: 'helpdesk',
      responsibility: 'Answer questions',
      instructions: 'Answer briefly.',
      tools: [],
      contextTokens: 4096,
      ...(model ? { model } : {}),
    });
    const { system, close } = await startSystem('memory', { agents: [agent] });
    try {
      for (let n = 0; n < 5; n++) {
        const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: `Question ${n}?` });
        const run = await system.wait(runId);
        assert.equal(run.status, 'completed', JSON.stringify(run.error));
        if (n < 4) continue;
        const requested = ofType(await journal(system, runId), 'model.requested')[0];
        const context = requested?.data.context;
        assert.ok(context && context.tokens <= context.limit);
        assert.ok((context.droppedMemoryTurns ?? 0) >= 2, JSON.stringify(context));
        assert.equal(context.droppedMemoryTurns! % 2, 0, 'user and assistant turns leave together');
        assert.equal(context.truncated, undefined, 'nothing was cut while memory turns could go');
        // What the server got: the oldest answer left out, the newest kept.
        const sent = JSON.stringify(server.requests[4]?.messages);
        assert.ok(!sent.includes('Answer 0:'));
        assert.ok(sent.includes('Answer 3:'));
        assert.equal(requested?.data.messages, server.requests[4]?.messages.length);
      }
    } finally {
      await close();
    }
  });
});

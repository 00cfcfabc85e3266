/**
 * Issue 22 item 10: a delegated run's prompt has one system message (the agent's instructions and
 * the delegation note merged), first, so chat templates that accept exactly one system message
 * work. Against the fixture server's strict template (`strictSingleSystem`: a second system
 * message is the server's 500 "System message must be at the beginning"), through the real CLI.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startLlmServer, type LlmServer } from '../fixtures/services/llm-server.ts';
import { realModelCli } from '../fixtures/services/real-model-cli.ts';

describe('issue 22 #10: one system message, for strict chat templates', { timeout: 300_000 }, () => {
  let server: LlmServer | undefined;
  let cleanup = (): void => {};
  after(async () => {
    await server?.close();
    cleanup();
  });

  it('a delegation completes against a template that accepts exactly one system message', async () => {
    server = await startLlmServer({
      strictSingleSystem: true,
      script: (req, n) =>
        n === 0
          ? {
              toolCalls: [
                { name: 'delegate_to_archive', arguments: '{"task":"How many orders has customer A?"}' },
              ],
            }
          : req.messages.some((m) => m.role === 'tool')
            ? { text: n === 1 ? 'unused' : 'Customer A has 12 orders.' }
            : { text: 'Customer A has 12 orders on record.' },
    });
    const cli = realModelCli(server.url);
    cleanup = cli.cleanup;
    const { run, stderr } = await cli.submit('How many orders has customer A?', 'triage');
    assert.equal(run.status, 'completed', stderr);
    assert.equal(run.output, 'Customer A has 12 orders.');
    assert.equal(server.requests.length, 3);
    assert.deepEqual(
      server.answers.map((a) => a.status),
      [200, 200, 200],
    );
    for (const req of server.requests) {
      assert.deepEqual(
        req.messages.flatMap((m, i) => (m.role === 'system' ? [i] : [])),
        [0],
      );
    }
    // The child's one system message holds its instructions and the delegation note.
    const child = JSON.stringify(server.requests[1]?.messages[0]?.content);
    assert.match(child, /^"Look the records up before answering\./);
    assert.match(child, /delegated by the triage agent/);
  });
});

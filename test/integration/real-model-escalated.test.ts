/**
 * Issue 22 item 8: a run that escalated ends `escalated`, in the CLI (`run`, `runs`) and the API
 * (GET /v1/runs/:id) alike — also when the escalation happened in a delegated run, which used to
 * come back to the parent as a failed tool result the parent's model then answered over
 * (`completed`). Against the fixture server through `SWITCHBOARD_MODEL=openai-compatible:…`.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createGateway } from '../../src/gateway/server.ts';
import { createMemoryKeyStore, issueKey } from '../../src/gateway/keys.ts';
import { loadConfig, openProject } from '../../src/project.ts';
import { startLlmServer, type LlmServer } from '../fixtures/services/llm-server.ts';
import { PROJECT, realModelCli } from '../fixtures/services/real-model-cli.ts';

const ESCALATE = {
  toolCalls: [
    {
      name: 'escalate_to_human',
      arguments: '{"summary":"Customer A disputes order ORD-A-10003","reason":"a dispute needs a person"}',
    },
  ],
};

describe('issue 22 #8: escalated runs end escalated', { timeout: 300_000 }, () => {
  const servers: LlmServer[] = [];
  const cleanups: (() => void)[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    for (const c of cleanups) c();
  });

  it('a parent whose delegated run escalated ends escalated too, in switchboard run, runs and GET /v1/runs/:id', async () => {
    const server = await startLlmServer({
      script: (_req, n) =>
        n === 0
          ? {
              toolCalls: [
                { name: 'delegate_to_archive', arguments: '{"task":"Customer A disputes ORD-A-10003"}' },
              ],
            }
          : n === 1
            ? ESCALATE
            : { text: 'All sorted, the dispute is resolved.' },
    });
    servers.push(server);
    const cli = realModelCli(server.url);
    cleanups.push(cli.cleanup);
    const { code, run } = await cli.submit('I dispute order ORD-A-10003', 'triage');
    assert.equal(run.status, 'escalated');
    assert.equal(code, 0);
    assert.deepEqual(run.escalation, {
      reason: 'a dispute needs a person',
      summary: 'Customer A disputes order ORD-A-10003',
      by: 'agent',
    });
    // The parent's model was not asked to carry on without the person: two requests, not three.
    assert.equal(server.requests.length, 2);

    const listed = await cli.run(['runs', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as { runId: string; status: string; parentRunId: string | null }[];
    assert.equal(rows.find((r) => r.runId === run.runId)?.status, 'escalated');
    assert.equal(rows.find((r) => r.parentRunId === run.runId)?.status, 'escalated');
    const text = await cli.run(['runs', '--status', 'escalated']);
    assert.match(text.stdout, new RegExp(run.runId));

    // The API reads the same store.
    const config = await loadConfig({ config: PROJECT, env: cli.env });
    const project = await openProject(config, { env: cli.env, workers: false, onError: () => {} });
    const keys = createMemoryKeyStore();
    const gateway = createGateway({
      system: project.system,
      keys,
      port: 0,
      adminPort: 0,
      consoleDir: false,
      onError: () => {},
    });
    const { url } = await gateway.start();
    try {
      const { key } = await issueKey(keys, { name: 'cli', role: 'admin' });
      const res = await fetch(`${url}/v1/runs/${run.runId}`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { status: string; escalation?: { reason: string } };
      assert.equal(body.status, 'escalated');
      assert.equal(body.escalation?.reason, 'a dispute needs a person');
    } finally {
      await gateway.stop();
      await project.close();
    }
  });

  it('a run that called escalate_to_human itself ends escalated', async () => {
    const server = await startLlmServer({ script: () => ESCALATE });
    servers.push(server);
    const cli = realModelCli(server.url);
    cleanups.push(cli.cleanup);
    const { code, run } = await cli.submit('I dispute order ORD-A-10003', 'archive');
    assert.equal(run.status, 'escalated');
    assert.equal(code, 0);
    assert.equal(server.requests.length, 1);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { parseTraceparent } from '../../src/core/trace-ids.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { journal, ofType, startSystem } from '../helpers.ts';

describe('trace context', () => {
  it('continues an incoming traceparent and hands tools (and delegated runs) headers of the same trace', async () => {
    const seen: string[] = [];
    const call = defineTool({
      name: 'call_partner',
      description: 'Call a partner API',
      input: z.object({}),
      risk: 'read',
      idempotent: true,
      run: (_args, ctx) => (seen.push(ctx.traceHeaders.traceparent), 'ok'),
    });
    const worker = defineAgent({ name: 'worker', responsibility: 'Work', instructions: 'x', tools: [call] });
    const triage = defineAgent({
      name: 'triage',
      responsibility: 'Triage',
      instructions: 'x',
      tools: [],
      delegates: ['worker'],
    });
    const model = policyModel(({ prompt, tools }) => {
      if (toolResults(prompt).length) return { text: 'done' };
      return tools.includes('delegate_to_worker')
        ? { toolCalls: [{ toolName: 'delegate_to_worker', input: { task: 'call the partner' } }] }
        : { toolCalls: [{ toolName: 'call_partner', input: {} }] };
    });
    const { system, close } = await startSystem('memory', { agents: [triage, worker], model });
    try {
      const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const { runId } = await system.submit({
        actorId: 'u',
        sessionId: 's',
        input: 'go',
        agent: 'triage',
        traceparent: incoming,
      });
      assert.equal((await system.wait(runId)).status, 'completed');
      const child = ofType(await journal(system, runId), 'delegation.requested')[0]?.data.childRunId ?? '';
      const childSubmitted = ofType(await journal(system, child), 'run.submitted')[0];
      assert.equal(
        parseTraceparent(childSubmitted?.data.traceparent)?.traceId,
        '4bf92f3577b34da6a3ce929d0e0e4736',
      );
      assert.equal(seen.length, 1);
      assert.equal(parseTraceparent(seen[0])?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      await assert.rejects(
        Promise.resolve().then(() => parseTraceparent('garbage') ?? Promise.reject(new Error('invalid'))),
      );
    } finally {
      await close();
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { ToolError } from '../../src/core/errors.ts';
import { defineTool, type AnyTool } from '../../src/core/tool.ts';
import { policyModel, scriptedModel, toolResults } from '../../src/models/scripted.ts';
import { ADAPTERS, journal, ofType, startSystem } from '../helpers.ts';

const lookup = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id',
  input: z.object({ id: z.number().int() }),
  risk: 'read',
  idempotent: true,
  progress: 'Looking up your order',
  run: async ({ id }) => ({ id, status: 'shipped' }),
});

const orders = (tools: AnyTool[] = [lookup]) =>
  defineAgent({ name: 'orders', responsibility: 'Answer order questions', instructions: 'Be brief.', tools });

for (const adapter of ADAPTERS) {
  describe(`engine on ${adapter}`, () => {
    it('runs model → tool → model → answer and journals every step', async () => {
      const model = scriptedModel([
        { toolCalls: [{ toolName: 'lookup_order', input: { id: 7 } }] },
        { text: 'Order 7 has shipped.' },
      ]);
      const { system, close } = await startSystem(adapter, { agents: [orders()], model });
      try {
        const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'Where is order 7?' });
        const run = await system.wait(runId);
        assert.equal(run.status, 'completed');
        assert.equal(run.output, 'Order 7 has shipped.');
        assert.equal(run.totals.toolCalls, 1);
        const events = await journal(system, runId);
        assert.deepEqual(
          events.map((e) => e.type),
          [
            'run.submitted',
            'route.decided',
            'agent.started',
            'memory.loaded',
            'model.requested',
            'model.responded',
            'tool.started',
            'progress',
            'tool.succeeded',
            'model.requested',
            'model.responded',
            'memory.persisted',
            'run.completed',
          ],
        );
        assert.deepEqual(
          events.map((e) => e.seq),
          events.map((_, i) => i + 1),
        );
        const started = ofType(events, 'tool.started')[0];
        assert.equal(started?.data.idempotencyKey, `${runId}:${started?.data.callId}`);
        assert.deepEqual(ofType(events, 'tool.succeeded')[0]?.data.result, { id: 7, status: 'shipped' });
        // The second model call saw the tool result.
        assert.deepEqual(toolResults(model.calls[1]?.prompt ?? [])[0]?.output, {
          type: 'json',
          value: { id: 7, status: 'shipped' },
        });
        const row = await system.store.runs.get(runId);
        assert.equal(row?.status, 'completed');
      } finally {
        await close();
      }
    });

    it('stops a looping model at exactly the step limit with BudgetExceededError', async () => {
      const model = scriptedModel([{ toolCalls: [{ toolName: 'lookup_order', input: { id: 1 } }] }]);
      const { system, close } = await startSystem(adapter, {
        agents: [orders()],
        model,
        budget: { maxSteps: 5 },
      });
      try {
        const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'loop' });
        const run = await system.wait(runId);
        assert.equal(run.status, 'failed');
        assert.equal(run.error?.name, 'BudgetExceededError');
        assert.deepEqual(run.error?.details, { budget: 'maxSteps', limit: 5, used: 5 });
        const events = await journal(system, runId);
        assert.equal(ofType(events, 'model.responded').length, 5);
        assert.equal(ofType(events, 'tool.succeeded').length, 5);
        assert.equal(model.calls.length, 5);
        assert.equal(events.at(-1)?.type, 'run.failed');
      } finally {
        await close();
      }
    });

    it('stops at the tool-call and token budgets too', async () => {
      const model = scriptedModel([
        {
          toolCalls: [{ toolName: 'lookup_order', input: { id: 1 } }],
          usage: { inputTokens: 100, outputTokens: 10 },
        },
      ]);
      const { system, close } = await startSystem(adapter, { agents: [orders()], model });
      try {
        const a = await system.submit({
          actorId: 'u1',
          sessionId: 's1',
          input: 'loop',
          budget: { maxToolCalls: 3 },
        });
        const ra = await system.wait(a.runId);
        assert.deepEqual(ra.error?.details, { budget: 'maxToolCalls', limit: 3, used: 3 });
        const b = await system.submit({
          actorId: 'u1',
          sessionId: 's2',
          input: 'loop',
          budget: { maxTokens: 250 },
        });
        const rb = await system.wait(b.runId);
        assert.equal(rb.error?.details?.budget, 'maxTokens');
        assert.equal(rb.totals.modelCalls, 3);
      } finally {
        await close();
      }
    });

    it('denies invalid arguments with the validation message and lets the run continue', async () => {
      const model = scriptedModel([
        { toolCalls: [{ toolName: 'lookup_order', input: { id: 'seven' } }] },
        { toolCalls: [{ toolName: 'lookup_order', input: '{not json' }] },
        { toolCalls: [{ toolName: 'lookup_order', input: { id: 7 } }] },
        { text: 'Shipped.' },
      ]);
      const { system, close } = await startSystem(adapter, { agents: [orders()], model });
      try {
        const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'order seven?' });
        const run = await system.wait(runId);
        assert.equal(run.status, 'completed');
        const denied = ofType(await journal(system, runId), 'tool.denied');
        assert.equal(denied.length, 2);
        assert.equal(denied[0]?.data.reason, 'invalid-arguments');
        assert.match(denied[0]?.data.message ?? '', /id/);
        // The model was told why.
        const told = toolResults(model.calls[1]?.prompt ?? [])[0]?.output as { type: string; reason: string };
        assert.equal(told.type, 'execution-denied');
        assert.match(told.reason, /Invalid arguments for lookup_order/);
      } finally {
        await close();
      }
    });

    it('denies a call to a tool the agent does not own, and the run continues', async () => {
      const refund = defineTool({
        name: 'refund',
        description: 'Refund money',
        input: z.object({}),
        risk: 'financial',
        run: () => 'refunded',
      });
      const billing = defineAgent({
        name: 'billing',
        responsibility: 'Refunds',
        instructions: 'x',
        tools: [refund],
      });
      const model = scriptedModel([
        {
          toolCalls: [
            { toolName: 'refund', input: {} },
            { toolName: 'invented_tool', input: {} },
          ],
        },
        { text: 'I cannot do that.' },
      ]);
      const { system, close } = await startSystem(adapter, {
        agents: [orders(), billing],
        model,
        defaultAgent: 'orders',
      });
      try {
        const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'refund me' });
        const run = await system.wait(runId);
        assert.equal(run.status, 'completed');
        const events = await journal(system, runId);
        assert.deepEqual(
          ofType(events, 'tool.denied').map((e) => [e.data.tool, e.data.reason]),
          [
            ['refund', 'not-permitted'],
            ['invented_tool', 'not-permitted'],
          ],
        );
        assert.equal(ofType(events, 'tool.started').length, 0);
      } finally {
        await close();
      }
    });

    it('retries a failing tool with backoff, journaling each attempt', async () => {
      let calls = 0;
      const flaky = defineTool({
        name: 'flaky',
        description: 'Fails twice',
        input: z.object({}),
        risk: 'read',
        idempotent: true,
        retry: { maxAttempts: 3, initialDelayMs: 2, maxDelayMs: 5 },
        run: () => {
          calls++;
          if (calls < 3) throw new ToolError(`carrier timeout ${calls}`);
          return 'ok';
        },
      });
      const model = scriptedModel([{ toolCalls: [{ toolName: 'flaky', input: {} }] }, { text: 'done' }]);
      const { system, close } = await startSystem(adapter, { agents: [orders([flaky])], model });
      try {
        const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'go' });
        const run = await system.wait(runId);
        assert.equal(run.status, 'completed');
        const events = await journal(system, runId);
        const failed = ofType(events, 'tool.failed');
        assert.deepEqual(
          failed.map((e) => e.data.attempt),
          [1, 2],
        );
        const starts = ofType(events, 'tool.started');
        assert.equal(starts.length, 3);
        // Each retry starts no earlier than the time its failure scheduled.
        failed.forEach((f, i) => assert.ok((starts[i + 1]?.at ?? 0) >= (f.data.nextAttemptAt ?? Infinity)));
        assert.deepEqual(
          ofType(events, 'tool.started').map((e) => e.data.attempt),
          [1, 2, 3],
        );
        assert.equal(failed[0]?.data.error.message, 'carrier timeout 1');
      } finally {
        await close();
      }
    });

    it('gives up after the last attempt and tells the model; non-retryable errors are not retried', async () => {
      const broken = defineTool({
        name: 'broken',
        description: 'Always fails',
        input: z.object({ hard: z.boolean() }),
        risk: 'read',
        retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
        run: ({ hard }) => {
          throw new ToolError(hard ? 'no such account' : 'flaky', { retryable: !hard });
        },
      });
      const model = scriptedModel([
        { toolCalls: [{ toolName: 'broken', input: { hard: true } }] },
        { toolCalls: [{ toolName: 'broken', input: { hard: false } }] },
        { text: 'Sorry.' },
      ]);
      const { system, close } = await startSystem(adapter, { agents: [orders([broken])], model });
      try {
        const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'go' });
        assert.equal((await system.wait(runId)).status, 'completed');
        const failed = ofType(await journal(system, runId), 'tool.failed');
        assert.deepEqual(
          failed.map((e) => [e.data.retryable, e.data.nextAttemptAt === undefined]),
          [
            [false, true],
            [true, false],
            [true, true],
          ],
        );
        const told = toolResults(model.calls[1]?.prompt ?? [])[0]?.output as { type: string; value: string };
        assert.deepEqual(told, { type: 'error-text', value: 'no such account' });
      } finally {
        await close();
      }
    });

    it('delegates to another agent: the parent waits, the child result returns as the tool result', async () => {
      const model = policyModel(({ prompt, tools }) => {
        const results = toolResults(prompt);
        if (tools.includes('delegate_to_orders')) {
          return results.length
            ? { text: `Triage: ${JSON.stringify(results[0]?.output)}` }
            : {
                toolCalls: [
                  {
                    toolName: 'delegate_to_orders',
                    input: { task: 'Find order 7', context: { orderId: 7 } },
                  },
                ],
              };
        }
        return results.length
          ? { text: 'Order 7 shipped' }
          : { toolCalls: [{ toolName: 'lookup_order', input: { id: 7 } }] };
      });
      const triage = defineAgent({
        name: 'triage',
        responsibility: 'Triage',
        instructions: 'x',
        tools: [],
        delegates: ['orders'],
      });
      const { system, close } = await startSystem(adapter, { agents: [triage, orders()], model });
      try {
        const { runId } = await system.submit({
          actorId: 'u1',
          sessionId: 's1',
          input: 'where is my order',
          agent: 'triage',
        });
        const run = await system.wait(runId);
        assert.equal(run.status, 'completed');
        assert.match(run.output ?? '', /Order 7 shipped/);
        const events = await journal(system, runId);
        const req = ofType(events, 'delegation.requested')[0];
        assert.equal(req?.data.agent, 'orders');
        assert.deepEqual(req?.data.context, { orderId: 7 });
        const done = ofType(events, 'delegation.completed')[0];
        assert.equal(done?.data.status, 'completed');
        const child = await system.get(req?.data.childRunId ?? '');
        assert.equal(child.parentRunId, runId);
        assert.equal(child.agent, 'orders');
        const childEvents = await journal(system, child.runId);
        assert.equal(ofType(childEvents, 'route.decided')[0]?.data.method, 'delegation');
      } finally {
        await close();
      }
    });

    it('refuses delegation cycles and fails a run past the delegation depth', async () => {
      const model = policyModel(({ prompt, tools }) => {
        const results = toolResults(prompt);
        if (results.length) return { text: 'done' };
        const target = tools.find((t) => t.startsWith('delegate_to_'));
        return target
          ? { toolCalls: [{ toolName: target, input: { task: 'pass it on' } }] }
          : { text: 'leaf' };
      });
      const a = defineAgent({
        name: 'a',
        responsibility: 'A',
        instructions: 'x',
        tools: [],
        delegates: ['b'],
      });
      const b = defineAgent({
        name: 'b',
        responsibility: 'B',
        instructions: 'x',
        tools: [],
        delegates: ['a'],
      });
      const c1 = defineAgent({
        name: 'c1',
        responsibility: 'C1',
        instructions: 'x',
        tools: [],
        delegates: ['c2'],
      });
      const c2 = defineAgent({
        name: 'c2',
        responsibility: 'C2',
        instructions: 'x',
        tools: [],
        delegates: ['c3'],
      });
      const c3 = defineAgent({
        name: 'c3',
        responsibility: 'C3',
        instructions: 'x',
        tools: [],
        delegates: ['c4'],
      });
      const c4 = defineAgent({ name: 'c4', responsibility: 'C4', instructions: 'x', tools: [] });
      const { system, close } = await startSystem(adapter, { agents: [a, b, c1, c2, c3, c4], model });
      try {
        const cyc = await system.submit({ actorId: 'u', sessionId: 's1', input: 'go', agent: 'a' });
        assert.equal((await system.wait(cyc.runId)).status, 'completed');
        const child =
          ofType(await journal(system, cyc.runId), 'delegation.requested')[0]?.data.childRunId ?? '';
        const denied = ofType(await journal(system, child), 'tool.denied')[0];
        assert.equal(denied?.data.reason, 'delegation-cycle');
        const deep = await system.submit({ actorId: 'u', sessionId: 's2', input: 'go', agent: 'c1' });
        const run = await system.wait(deep.runId);
        assert.equal(run.status, 'completed');
        // c1 → c2 (depth 1) → c3 (depth 2) → c4 would be depth 3: c3's run fails, c2 is told.
        const rows = await system.list({ status: 'failed' });
        assert.equal(rows.length, 1);
        const failed = await system.get(rows[0]?.runId ?? '');
        assert.equal(failed.agent, 'c3');
        assert.deepEqual(failed.error?.details, { budget: 'maxDelegationDepth', limit: 2, used: 3 });
      } finally {
        await close();
      }
    });

    it('processes a session in order and deduplicates a repeated client message id', async () => {
      const seen: string[] = [];
      const model = policyModel(({ prompt }) => {
        // The run's own request is the last user message (earlier turns come from memory).
        const user = prompt.findLast((m) => m.role === 'user');
        const text = user?.role === 'user' && user.content[0]?.type === 'text' ? user.content[0].text : '';
        seen.push(text);
        return { text: `echo ${text}` };
      });
      const { system, close } = await startSystem(adapter, { agents: [orders()], model });
      try {
        const ids = [];
        for (const input of ['first', 'second', 'third'])
          ids.push((await system.submit({ actorId: 'u', sessionId: 'same', input })).runId);
        const again = await system.submit({
          actorId: 'u',
          sessionId: 'same',
          input: 'first',
          clientMessageId: 'm1',
        });
        const repeat = await system.submit({
          actorId: 'u',
          sessionId: 'same',
          input: 'first',
          clientMessageId: 'm1',
        });
        assert.equal(repeat.runId, again.runId);
        assert.equal(repeat.deduplicated, true);
        assert.equal(again.deduplicated, false);
        for (const id of [...ids, again.runId]) assert.equal((await system.wait(id)).status, 'completed');
        assert.deepEqual(seen, ['first', 'second', 'third', 'first']);
        const firstDone = (await journal(system, ids[0] ?? '')).at(-1)?.at ?? 0;
        const secondStart = (await journal(system, ids[1] ?? ''))[1]?.at ?? 0;
        assert.ok(secondStart >= firstDone);
      } finally {
        await close();
      }
    });

    it('cancels a run that is waiting for its session, and the session moves on', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      const slow = defineTool({
        name: 'slow',
        description: 'Waits',
        input: z.object({}),
        risk: 'read',
        idempotent: true,
        run: () => gate.then(() => 'ok'),
      });
      const model = scriptedModel([
        { toolCalls: [{ toolName: 'slow', input: {} }] },
        { text: 'done' },
        { text: 'third done' },
      ]);
      const { system, close } = await startSystem(adapter, { agents: [orders([slow])], model });
      try {
        const first = await system.submit({ actorId: 'u', sessionId: 's', input: 'one' });
        const second = await system.submit({ actorId: 'u', sessionId: 's', input: 'two' });
        const third = await system.submit({ actorId: 'u', sessionId: 's', input: 'three' });
        const cancelled = await system.cancel(second.runId, { by: 'test', reason: 'changed my mind' });
        assert.equal(cancelled.status, 'cancelled');
        release();
        assert.equal((await system.wait(first.runId)).status, 'completed');
        assert.equal((await system.wait(third.runId)).status, 'completed');
        const events = await journal(system, second.runId);
        assert.deepEqual(
          events.map((e) => e.type),
          ['run.submitted', 'run.cancelled'],
        );
        await assert.rejects(system.get('run_missing'), /not found/);
      } finally {
        await close();
      }
    });

    it('rejects bad submissions with a clear error naming the field', async () => {
      const { system, close } = await startSystem(adapter, {
        agents: [orders()],
        model: scriptedModel([{ text: 'x' }]),
      });
      try {
        await assert.rejects(system.submit({ actorId: 'u', sessionId: '', input: 'x' }), {
          name: 'UserError',
          field: 'sessionId',
        });
        await assert.rejects(system.submit({ actorId: 'u', sessionId: 's', input: 'x', agent: 'nope' }), {
          name: 'UserError',
          field: 'agent',
        });
        assert.deepEqual(await system.list(), []);
      } finally {
        await close();
      }
    });

    it('rebuilds the runs projection from the journal', async () => {
      const { system, close } = await startSystem(adapter, {
        agents: [orders()],
        model: scriptedModel([{ text: 'x' }]),
      });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'x' });
        await system.wait(runId);
        assert.equal(await system.rebuildProjection(), 1);
        const row = await system.store.runs.get(runId);
        assert.equal(row?.status, 'completed');
        assert.equal(row?.lastSeq, (await journal(system, runId)).length);
      } finally {
        await close();
      }
    });
  });
}

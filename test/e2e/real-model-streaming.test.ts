/**
 * Issue 22 item 7: only the final answer streams as `answer.delta`; text a model writes before its
 * tool calls streams as `model.text.delta` (with its step). Through the real gateway WebSocket,
 * with the model behind `openai-compatible:` against the fixture server, which streams text before
 * tool calls token by token as llama-server does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createModelFromEnv } from '../../src/models/providers.ts';
import type { ScriptedModel } from '../../src/models/scripted.ts';
import { startLlmServer, type LlmServer } from '../fixtures/services/llm-server.ts';
import { gatedTool, startGateway, WsClient, type Harness } from './fixtures/gateway.ts';

const BEFORE_TOOLS = 'Let me look at the carrier of the second order as well. ';
const ANSWER = 'Order 7 and order 8 have both shipped with DHL.';

describe(
  'issue 22 #7: streaming the answer, and only the answer, as answer.delta',
  { timeout: 120_000 },
  () => {
    const gate = gatedTool();
    let server: LlmServer;
    let h: Harness;
    before(async () => {
      server = await startLlmServer({
        script: (_req, n) =>
          n === 0
            ? { toolCalls: [{ name: 'check_order', arguments: '{"id":7}' }] }
            : n === 1
              ? { textBeforeTools: BEFORE_TOOLS, toolCalls: [{ name: 'check_order', arguments: '{"id":8}' }] }
              : { text: ANSWER },
      });
      const model = createModelFromEnv({ SWITCHBOARD_MODEL: `openai-compatible:${server.url}#qwen2-tiny` });
      h = await startGateway({ model: model as ScriptedModel, tools: [gate.tool] });
    });
    after(async () => {
      gate.release();
      await h.close();
      await server.close();
    });

    it('text before tool calls is model.text.delta; the answer deltas concatenate to exactly the final answer', async () => {
      const { key } = await h.key('alice');
      const c = new WsClient(h.wsUrl, key);
      await c.opened;
      c.send({ action: 'sendMessage', sessionId: 'stream-1', text: 'Where are orders 7 and 8?' });
      const runId = String((await c.next((f) => f.type === 'accepted')).runId);
      // Subscribed for sure once the first tool reports progress: the next model steps stream.
      await c.next((f) => f.type === 'event' && (f.event as { type: string }).type === 'progress');
      gate.release();
      await c.next((f) => f.type === 'end' && f.runId === runId);
      const run = await h.system.get(runId);
      assert.equal(run.status, 'completed');
      assert.equal(run.output, ANSWER);
      assert.equal(server.requests.length, 3);
      assert.ok(
        server.requests.slice(1).every((r) => r.stream === true),
        'steps 2 and 3 were streamed',
      );

      const answer = c.frames.filter((f) => f.type === 'answer.delta' && f.runId === runId);
      assert.ok(answer.length > 1, 'the answer came in pieces');
      assert.equal(answer.map((f) => f.text).join(''), ANSWER);
      const text = (step: number): string =>
        c.frames
          .filter((f) => f.type === 'model.text.delta' && f.runId === runId && f.step === step)
          .map((f) => f.text)
          .join('');
      assert.equal(text(2), BEFORE_TOOLS, 'the text before the tool calls is model text of step 2');
      assert.equal(text(3), ANSWER, 'the answering step streams as model text too, as it arrives');
      // The answer deltas come once the step is known to be the answer: after its model text.
      const lastText = c.frames.findLastIndex((f) => f.type === 'model.text.delta' && f.step === 3);
      const firstAnswer = c.frames.findIndex((f) => f.type === 'answer.delta');
      assert.ok(firstAnswer > lastText);
      c.close();
    });
  },
);

/**
 * Issue 22 item 4, against the llama-server fixture through SWITCHBOARD_MODEL=openai-compatible:…:
 * tool arguments that are not JSON — cut off at the output cap (`finish_reason: length`) or plain
 * text — are denied saying so, and the model gets its own text back once: no JSON-encoding of the
 * raw text a second time anywhere in what goes over the wire (read from the fixture's requests).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  startLlmServer,
  type ChatMessage,
  type FixtureTurn,
  type LlmServer,
} from '../fixtures/services/llm-server.ts';
import { openOnFixture } from './real-model-project.ts';

/** Every string in a request's messages (contents and tool-call arguments). */
const stringsOf = (messages: ChatMessage[]): string[] =>
  messages.flatMap((m) => [
    typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''),
    ...(m.tool_calls ?? []).map((c) => c.function.arguments),
  ]);

const count = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

describe('issue 22 item 4: unparseable tool arguments', () => {
  let server: LlmServer;
  let turns: FixtureTurn[] = [];
  let offset = 0;
  before(async () => {
    server = await startLlmServer({ script: (_r, n) => turns[n - offset] ?? { text: 'Sorry.' } });
  });
  after(() => server.close());
  const script = (t: FixtureTurn[]): void => {
    turns = t;
    offset = server.requests.length;
  };

  it('arguments cut off at the output cap: denied as cut off, the raw text sent back once, not re-encoded', async () => {
    const raw = '{"id": "ORD-4';
    script([
      { finishLength: { toolCall: { name: 'lookup_order', arguments: raw } } },
      { text: 'Let me try again later.' },
    ]);
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-4?');
      assert.equal(events.at(-1)?.type, 'run.completed');
      const denied = events.find((e) => e.type === 'tool.denied')?.data as {
        reason: string;
        message: string;
      };
      assert.equal(denied.reason, 'invalid-arguments');
      assert.match(denied.message, /were cut off/);
      assert.doesNotMatch(denied.message, /expected object, received string/);
      const responded = events.find((e) => e.type === 'model.responded')?.data as {
        toolCalls: { input: unknown; argumentsError?: string }[];
      };
      assert.equal(responded.toolCalls[0]?.input, raw, 'the journal keeps what the model wrote');
      assert.equal(responded.toolCalls[0]?.argumentsError, 'cut-off');

      const second = server.requests[offset + 1];
      assert.ok(second, 'the model was asked again');
      const tool = second.messages.find((m) => m.role === 'tool');
      assert.ok(tool && typeof tool.content === 'string');
      assert.equal(count(tool.content, raw), 1, `its own text once: ${tool.content}`);
      assert.match(tool.content, /cut off/);
      const assistant = second.messages.find((m) => m.tool_calls);
      assert.equal(assistant?.tool_calls?.[0]?.function.arguments, '{}');
      const wire = stringsOf(second.messages).join('\n');
      assert.equal(count(wire, raw), 1, 'the raw text appears once in the whole request');
      assert.ok(!wire.includes('\\"'), `no double encoding on the wire: ${wire}`);
    } finally {
      await p.close();
    }
  });

  it('arguments that are plain text: denied as not valid JSON (not as cut off), the text sent back once', async () => {
    const raw = 'id is ORD-5';
    script([{ toolCalls: [{ name: 'lookup_order', arguments: raw }] }, { text: 'Which order?' }]);
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-5?');
      assert.equal(events.at(-1)?.type, 'run.completed');
      const denied = events.find((e) => e.type === 'tool.denied')?.data as { message: string };
      assert.match(denied.message, /were not valid JSON/);
      assert.doesNotMatch(denied.message, /cut off/);
      const tool = server.requests[offset + 1]?.messages.find((m) => m.role === 'tool');
      assert.equal(count(typeof tool?.content === 'string' ? tool.content : '', raw), 1);
      const wire = stringsOf(server.requests[offset + 1]?.messages ?? []).join('\n');
      assert.equal(count(wire, raw), 1, `the raw text appears once in the whole request: ${wire}`);
      assert.ok(!wire.includes('\\"'));
    } finally {
      await p.close();
    }
  });

  it('valid arguments in the same answer still run: only the broken call is denied', async () => {
    script([
      {
        toolCalls: [
          { name: 'lookup_order', arguments: '{"id":"ORD-6"}' },
          { name: 'lookup_order', arguments: '{"id":' },
        ],
      },
      { text: 'ORD-6 has shipped.' },
    ]);
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where are ORD-6 and ORD-7?');
      assert.equal(events.at(-1)?.type, 'run.completed');
      assert.equal(events.filter((e) => e.type === 'tool.succeeded').length, 1);
      assert.equal(events.filter((e) => e.type === 'tool.denied').length, 1);
    } finally {
      await p.close();
    }
  });
});

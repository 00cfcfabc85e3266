/**
 * Issue 22 item 5, against the llama-server fixture through SWITCHBOARD_MODEL=openai-compatible:…:
 * the server's own tool-call parser rejecting the model's output (500 "does not match the expected
 * … format") is a model-behaviour error: the model is asked once more with the error stated, then
 * the run fails with class model_behaviour — never three blind retries of the same prompt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createModelFromEnv } from '../../src/models/providers.ts';
import { resilientModel } from '../../src/models/resilient.ts';
import { streamToResult } from '../../src/models/stream.ts';
import { ModelOutputError } from '../../src/models/errors.ts';
import { startLlmServer, type FixtureTurn, type LlmServer } from '../fixtures/services/llm-server.ts';
import { openOnFixture } from './real-model-project.ts';

const PARSER = /does not match the expected peg-native format/;

describe('issue 22 item 5: the server’s parser failing is re-asked once, then a model_behaviour failure', () => {
  let server: LlmServer;
  let turns: FixtureTurn[] = [];
  let offset = 0;
  before(async () => {
    server = await startLlmServer({ script: (_r, n) => turns[n - offset] ?? { text: 'unexpected' } });
  });
  after(() => server.close());
  const script = (t: FixtureTurn[]): void => {
    turns = t;
    offset = server.requests.length;
  };
  const lastText = (n: number): string => {
    const m = server.requests[n]?.messages.at(-1);
    return `${m?.role}: ${typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content)}`;
  };

  it('parser error, then an answer: the run completes with exactly 2 requests, the second stating the error', async () => {
    script([{ parserError: true }, { text: 'ORD-1 has shipped.' }]);
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-1?');
      assert.equal(events.at(-1)?.type, 'run.completed');
      assert.equal(server.requests.length - offset, 2);
      assert.match(
        lastText(offset + 1),
        /^user: Your previous reply could not be read: .*does not match the expected peg-native format/,
      );
      assert.doesNotMatch(lastText(offset), PARSER, 'the first request did not carry it');
      const retried = events.filter((e) => e.type === 'model.retried');
      assert.equal(retried.length, 1);
      const r = retried[0]?.data as { delayMs: number; error: { details?: { class?: string } } };
      assert.equal(r.error.details?.class, 'model_behaviour');
      assert.equal(r.delayMs, 0);
    } finally {
      await p.close();
    }
  });

  it('parser error twice: the run fails with class model_behaviour after 2 requests', async () => {
    script([{ parserError: true }, { parserError: true }, { text: 'never asked' }]);
    const p = await openOnFixture(server.url);
    try {
      const { events } = await p.run('Where is ORD-2?');
      const end = events.at(-1);
      assert.equal(end?.type, 'run.failed');
      assert.equal(server.requests.length - offset, 2);
      const { error } = end.data as {
        error: { message: string; details?: { class?: string; attempts?: number } };
      };
      assert.equal(error.details?.class, 'model_behaviour');
      assert.equal(error.details?.attempts, 2);
      assert.match(error.message, PARSER);
    } finally {
      await p.close();
    }
  });

  it('streamed: the parser error arrives in-band before any output and is re-asked the same way', async () => {
    script([{ parserError: true }, { text: 'Streamed answer.' }]);
    const model = resilientModel(
      createModelFromEnv({ SWITCHBOARD_MODEL: `openai-compatible:${server.url}#qwen2-tiny` })!,
    );
    const deltas: string[] = [];
    const result = await streamToResult(
      model,
      { prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      (d) => deltas.push(d),
    );
    assert.equal(deltas.join(''), 'Streamed answer.');
    assert.deepEqual(result.content, [{ type: 'text', text: 'Streamed answer.' }]);
    assert.equal(server.requests.length - offset, 2);
    assert.equal(server.requests[offset]?.stream, true);
    assert.match(lastText(offset + 1), PARSER);
    script([{ parserError: true }, { parserError: true }]);
    await assert.rejects(
      streamToResult(
        model,
        { prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
        () => {},
      ),
      (e: unknown) => e instanceof ModelOutputError && e.class === 'model_behaviour' && e.attempts === 2,
    );
  });
});

/**
 * Issue 22 item 9: `switchboard trace` shows when each event happened, not when it was committed,
 * and each model attempt's own latency; "called with N messages" counts the messages that went
 * over the wire. Through the real CLI against the fixture server: two 503s, then two parallel tool
 * calls, then the answer.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { EventOf, JournalEvent } from '../../src/core/events.ts';
import { traceIdOf } from '../../src/core/trace-ids.ts';
import { createRedactor } from '../../src/telemetry/redact.ts';
import { RunSpans } from '../../src/telemetry/spans.ts';
import { startLlmServer, type LlmServer } from '../fixtures/services/llm-server.ts';
import { realModelCli } from '../fixtures/services/real-model-cli.ts';

const overloaded = {
  status: 503,
  body: { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } },
};

describe('issue 22 #9: trace times and message counts', { timeout: 300_000 }, () => {
  let server: LlmServer | undefined;
  let cleanup = (): void => {};
  after(async () => {
    await server?.close();
    cleanup();
  });

  it('a run with 2 failed attempts then success shows 3 attempts with their latencies, agent.started when it happened, and the wire message counts', async () => {
    server = await startLlmServer({
      script: (_req, n) =>
        n < 2
          ? overloaded
          : n === 2
            ? {
                toolCalls: [
                  { name: 'fetch_records', arguments: '{"customer":"A"}' },
                  { name: 'fetch_records', arguments: '{"customer":"B"}' },
                ],
              }
            : { text: 'Customers A and B have shipped orders.' },
    });
    const cli = realModelCli(server.url, { RECORDS_KB: '1', SWITCHBOARD_MODEL_MAX_RETRIES: '3' });
    cleanup = cli.cleanup;
    const { run, stderr } = await cli.submit('What did customers A and B order?', 'archive');
    assert.equal(run.status, 'completed', stderr);
    assert.equal(server.requests.length, 4);

    const json = await cli.run(['trace', '--json', run.runId]);
    assert.equal(json.code, 0, json.stderr);
    const events = JSON.parse(json.stdout) as JournalEvent[];
    const of = <T extends JournalEvent['type']>(t: T) => events.filter((e): e is EventOf<T> => e.type === t);
    const retried = of('model.retried');
    const [first, second] = of('model.responded');
    // Three attempts of the first call, each with its own latency.
    assert.deepEqual(
      retried.map((r) => [r.data.attempt, r.data.status, typeof r.data.latencyMs]),
      [
        [1, 503, 'number'],
        [2, 503, 'number'],
      ],
    );
    assert.equal(first?.data.attempts, 3);
    assert.equal(typeof first?.data.attemptLatencyMs, 'number');
    assert.equal(second?.data.attempts, undefined, 'the second call needed one attempt');
    // agent.started happened before the first attempt failed, though it was committed after the retries.
    const started = of('agent.started')[0];
    const happened = (e: JournalEvent | undefined): number =>
      (e?.data as { occurredAt?: number } | undefined)?.occurredAt ?? Number.NaN;
    assert.ok(happened(started) <= happened(retried[0]), 'agent.started occurred before the retries');
    assert.ok((started?.at ?? 0) >= happened(retried[1]), 'and was committed after them');
    // The message counts are what the server received (the two tool results are two messages).
    const requested = of('model.requested');
    assert.deepEqual(
      requested.map((r) => r.data.messages),
      [server.requests[2]?.messages.length, server.requests[3]?.messages.length],
    );
    assert.deepEqual(
      requested.map((r) => r.data.messages),
      [2, 5],
    );

    // The OpenTelemetry model span lasts from the request to the answer, retries included.
    const spans = new RunSpans(run.runId, { traceId: traceIdOf(run.runId) }, { redactor: createRedactor() });
    const chat = events.flatMap((e) => spans.apply(e)).find((sp) => sp.name.startsWith('chat '));
    assert.equal(chat?.startMs, happened(requested[0]));
    assert.equal(chat?.endMs, happened(first));
    assert.ok((chat?.endMs ?? 0) > (chat?.startMs ?? 0));

    const text = await cli.run(['trace', run.runId]);
    const line = (type: string): string => text.stdout.split('\n').find((l) => l.includes(` ${type} `)) ?? '';
    assert.match(line('agent.started'), /\(committed \+\d+ms\)$/);
    const at = (l: string): number => Number(/^#\s*\d+ \+\s*(\d+)ms/.exec(l)?.[1]);
    const retriedLines = text.stdout.split('\n').filter((l) => l.includes(' model.retried '));
    assert.equal(retriedLines.length, 2);
    for (const l of retriedLines) assert.match(l, /attempt \d took [\d.]+ ms, retried after \d+ ms/);
    assert.ok(at(line('agent.started')) <= at(retriedLines[0] ?? ''));
    assert.match(text.stdout, /model answered in [\d.]+ ms \(attempt 3 took [\d.]+ ms\)/);
    assert.match(text.stdout, /called with 5 messages/);
  });
});

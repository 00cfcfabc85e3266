import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { JournalEvent, NewEvent } from '../../src/core/events.ts';
import { DEFAULT_BUDGET } from '../../src/core/budget.ts';
import { loadFixtures } from '../../src/replay/fixtures.ts';
import { costOf, priceOf, priceTable } from '../../src/telemetry/cost.ts';
import { graphOf, toMermaid } from '../../src/telemetry/graph.ts';
import { quantile } from '../../src/telemetry/health.ts';
import { parseTraceparent, spanIdOf, traceIdOf } from '../../src/telemetry/ids.ts';
import { createRedactor } from '../../src/telemetry/redact.ts';
import { RunSpans, type SpanRecord } from '../../src/telemetry/spans.ts';

const journal = (runId: string, items: [number, NewEvent][]): JournalEvent[] =>
  items.map(([at, e], k) => ({ runId, seq: k + 1, at, v: 1, ...e }));

describe('spans from a journal', () => {
  it('an approval is a span that covers the wait, under its tool call', () => {
    const call = { callId: 's1c1', modelCallId: 'm1', toolName: 'refund', input: { amount: 500 } };
    const events = journal('run_a', [
      [
        0,
        {
          type: 'run.submitted',
          data: {
            actorId: 'u',
            sessionId: 's',
            input: 'refund 500',
            channel: 'api',
            lineage: [],
            depth: 0,
            budget: DEFAULT_BUDGET,
          },
        },
      ],
      [
        5,
        {
          type: 'route.decided',
          data: { agent: 'billing', method: 'fusion', confidence: 0.9, reason: 'r', candidates: [] },
        },
      ],
      [6, { type: 'agent.started', data: { agent: 'billing', version: 'v1' } }],
      [
        7,
        {
          type: 'model.requested',
          data: { modelId: 'gpt-4o', provider: 'openai', tools: ['refund'], messages: 2 },
        },
      ],
      [
        907,
        {
          type: 'model.responded',
          data: {
            modelId: 'gpt-4o',
            text: '',
            toolCalls: [call],
            usage: { inputTokens: 1000, outputTokens: 100 },
            latencyMs: 900,
            finishReason: 'tool-calls',
          },
        },
      ],
      [
        910,
        // Cast: the approval payload grows (agent, args, rules) as approvals land in the engine.
        {
          type: 'approval.requested',
          data: {
            approvalId: 'ap1',
            callId: 's1c1',
            tool: 'refund',
            agent: 'billing',
            args: { amount: 500 },
            argsDigest: 'd',
            reasons: ['over $100'],
            rules: ['refund-over-100'],
            requestedBy: 'u',
            expiresAt: 1e12,
          },
        } as unknown as NewEvent,
      ],
      [
        3_600_910,
        {
          type: 'approval.decided',
          data: { approvalId: 'ap1', callId: 's1c1', decision: 'approved', approver: 'manager' },
        } as unknown as NewEvent,
      ],
      [
        3_600_911,
        {
          type: 'tool.started',
          data: {
            callId: 's1c1',
            tool: 'refund',
            args: { amount: 500 },
            attempt: 1,
            idempotencyKey: 'run_a:s1c1',
          },
        },
      ],
      [
        3_600_950,
        {
          type: 'tool.succeeded',
          data: { callId: 's1c1', tool: 'refund', attempt: 1, result: { ok: true } },
        },
      ],
      [
        3_600_951,
        {
          type: 'model.requested',
          data: { modelId: 'gpt-4o', provider: 'openai', tools: ['refund'], messages: 4 },
        },
      ],
      [
        3_601_000,
        {
          type: 'model.responded',
          data: {
            modelId: 'gpt-4o',
            text: 'Done',
            toolCalls: [],
            usage: { inputTokens: 1200, outputTokens: 10 },
            latencyMs: 49,
            finishReason: 'stop',
          },
        },
      ],
      [
        3_601_001,
        {
          type: 'run.completed',
          data: {
            output: 'Done',
            totals: {
              steps: 2,
              modelCalls: 2,
              toolCalls: 1,
              inputTokens: 2200,
              outputTokens: 110,
              costUsd: 0,
              durationMs: 3_601_001,
            },
          },
        },
      ],
    ]);
    const spans = new RunSpans(
      'run_a',
      { traceId: traceIdOf('run_a') },
      { redactor: createRedactor(), prices: priceTable({}, {}) },
    );
    const out: SpanRecord[] = events.flatMap((e) => spans.apply(e));
    const approval = out.find((s) => s.name === 'approval refund');
    const toolSpan = out.find((s) => s.name === 'execute_tool refund');
    assert.equal(approval?.startMs, 910);
    assert.equal(approval?.endMs, 3_600_910);
    assert.equal(approval?.parentSpanId, toolSpan?.spanId);
    assert.equal(approval?.attributes['switchboard.approval.decision'], 'approved');
    assert.equal(toolSpan?.spanId, spanIdOf('run_a', 'call:s1c1'));
    const ids = new Set(out.map((s) => s.spanId));
    assert.equal(out.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).length, 0);
    const chat = out.find((s) => s.name === 'chat gpt-4o');
    assert.equal(chat?.attributes['switchboard.cost.usd'], (1000 * 2.5 + 100 * 10) / 1e6);
    assert.equal(out.find((s) => s.name === 'invoke_agent billing')?.status.code, 'ok');
    // Content is off by default: no input, arguments or output attributes.
    assert.ok(!JSON.stringify(out).includes('refund 500'));
  });
});

describe('ids, prices, redaction', () => {
  it('derives stable ids and parses traceparent', () => {
    assert.equal(traceIdOf('r1'), traceIdOf('r1'));
    assert.match(traceIdOf('r1'), /^[0-9a-f]{32}$/);
    assert.match(spanIdOf('r1', 'run'), /^[0-9a-f]{16}$/);
    assert.deepEqual(parseTraceparent(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`), {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
    });
    assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`), null);
  });
  it('prices models by exact id or provider-qualified prefix', () => {
    const t = priceTable({}, {});
    assert.equal(priceOf(t, 'gpt-4o-mini-2024-07-18')?.input, 0.15);
    assert.equal(priceOf(t, 'anthropic.claude-sonnet-4-20250514-v1:0')?.output, 15);
    assert.equal(priceOf(t, 'mystery-model'), undefined);
    assert.equal(
      costOf(t, 'gpt-4o', { inputTokens: 1_000_000, outputTokens: 1_000_000, cachedInputTokens: 500_000 }),
      0.5 * 2.5 + 0.5 * 1.25 + 10,
    );
    assert.equal(priceTable({}, { SWITCHBOARD_PRICES: '{"x":{"input":1,"output":2}}' }).x?.output, 2);
  });
  it('redacts secret values and secret-looking keys', () => {
    const r = createRedactor({ secrets: ['hunter2-secret'] });
    assert.equal(r.text('pw=hunter2-secret!'), 'pw=[REDACTED]!');
    assert.equal(
      r.json({ apiKey: 'x', nested: { note: 'hunter2-secret' } }),
      '{"apiKey":"[REDACTED]","nested":{"note":"[REDACTED]"}}',
    );
  });
  it('quantiles by nearest rank', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 10);
    assert.equal(quantile([], 0.5), null);
  });
});

describe('orchestration graph', () => {
  it('draws router, agents, tools with counts, retries, denials and delegation tokens', () => {
    const fixtures = loadFixtures(join(import.meta.dirname, '..', 'fixtures', 'journals'));
    const journals = new Map<string, JournalEvent[]>();
    for (const f of fixtures.filter((x) => x.system === 'scripted'))
      for (const [id, ev] of Object.entries(f.runs)) journals.set(id, ev);
    const g = graphOf(journals);
    const edge = (from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);
    assert.equal(edge('router', 'agent:support')?.count, 4);
    assert.equal(edge('router', 'human:escalation')?.count, 1);
    assert.equal(edge('agent:support', 'agent:billing')?.kind, 'delegate');
    assert.equal(edge('agent:support', 'agent:billing')?.count, 2);
    assert.ok((edge('agent:support', 'agent:billing')?.tokens ?? 0) > 0);
    assert.equal(edge('agent:support', 'tool:track_parcel')?.retries, 3);
    assert.equal(edge('agent:support', 'tool:refund')?.denials, 1);
    assert.equal(edge('agent:support', 'tool:lookup_order')?.failures, 1);
    const mermaid = toMermaid(g);
    assert.match(mermaid, /^flowchart LR/);
    assert.match(mermaid, /agent_support ==>\|"delegate ×2/);
  });
});

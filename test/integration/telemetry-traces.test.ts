import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { createSystem } from '../../src/system.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import type { FaultPoint, Faults } from '../../src/runtime/faults.ts';
import { JournalTracer } from '../../src/telemetry/tracer.ts';
import { otelSink } from '../../src/telemetry/otel.ts';
import { priceTable } from '../../src/telemetry/cost.ts';
import {
  SCRIPTED_REQUESTS,
  SECRET_CANARY,
  scriptedAgents,
  scriptedModelFor,
  scriptedRouter,
} from '../fixtures/journals/scripted-system.ts';

/** Dies once at the `nth` hit of `point`, the way a killed process would. */
function crashAt(point: FaultPoint, nth: number): Faults & { fired: boolean } {
  let hits = 0;
  const f = {
    fired: false,
    hit(p: FaultPoint) {
      if (p === point && ++hits === nth && !f.fired) {
        f.fired = true;
        throw new Error(`simulated crash at ${p}`);
      }
    },
  };
  return f;
}

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

describe('journal → OpenTelemetry spans', () => {
  it('one connected trace across routing, retry, delegation and a process restart; no secret in any span', async () => {
    const store = createMemoryStore();
    const exporter = new InMemorySpanExporter();
    const common = {
      agents: scriptedAgents(),
      model: scriptedModelFor(),
      router: scriptedRouter,
      store,
      pollMs: 20,
      onWarning: () => {},
    };
    // Process 1 dies right after the refund's `tool.started` commit: the first start that is a
    // durability point (the read-only idempotent lookup and carrier calls without a milestone ride
    // with the next commit instead).
    const faults = crashAt('afterToolStartedCommit', 1);
    const tracer1 = new JournalTracer(store, {
      sink: await otelSink(exporter),
      captureContent: true,
      secrets: [SECRET_CANARY],
      prices: priceTable({ policy: { input: 3, output: 15 } }),
    });
    const detach1 = tracer1.attach();
    const p1 = createSystem({ ...common, faults, errorRetryMs: 60_000, onError: () => {} });
    after(() => p1.stop());
    await p1.start();
    const { runId } = await p1.submit({
      actorId: 'user-1',
      sessionId: 's1',
      input: SCRIPTED_REQUESTS['scripted-refund-delegation'] ?? '',
    });
    // Wait for the crash, then stop process 1: its open spans are lost with it.
    for (let i = 0; i < 1000 && !faults.fired; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(faults.fired, 'the crash point was reached');
    await p1.stop();
    // A killed process leaves no retry timer behind, only a lease that expires: drop the delayed
    // wake-up so process 2's start-up sweep recovers the run at once.
    await store.commit({ deleteTasks: [...(await store.queue.pendingRunIds())] });
    await tracer1.flush();
    detach1();
    const before = exporter.getFinishedSpans().length;
    assert.ok(before > 0, 'process 1 exported the spans that ended before the crash');

    // Process 2: a fresh tracer and system on the same store resume the run.
    const tracer2 = new JournalTracer(store, {
      sink: await otelSink(exporter),
      captureContent: true,
      secrets: [SECRET_CANARY],
    });
    const detach2 = tracer2.attach();
    const p2 = createSystem({ ...common, onError: () => {} });
    after(() => p2.stop());
    await p2.start();
    const view = await p2.wait(runId);
    await p2.stop();
    await tracer2.flush();
    detach2();
    assert.equal(view.status, 'completed');

    const spans = exporter.getFinishedSpans();
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    assert.equal(ids.size, spans.length, 'no span exported twice');
    assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1, 'one trace');
    const roots = spans.filter((s) => parentOf(s) === undefined);
    assert.equal(roots.length, 1, 'one root span');
    const orphans = spans.filter((s) => parentOf(s) !== undefined && !ids.has(parentOf(s) ?? ''));
    assert.equal(orphans.length, 0, `orphans: ${orphans.map((s) => s.name).join(', ')}`);

    const names = spans.map((s) => s.name);
    for (const n of [
      'invoke_agent support',
      'invoke_agent billing',
      'route',
      'step 1',
      'chat policy',
      'execute_tool lookup_order',
      'execute_tool track_parcel',
      'execute_tool delegate_to_billing',
      'execute_tool refund',
    ])
      assert.ok(names.includes(n), `span ${n} present in ${names.join(', ')}`);

    const root = roots[0];
    assert.equal(root?.name, 'invoke_agent support');
    assert.equal(root?.attributes['switchboard.run.id'], runId);
    assert.equal(root?.attributes['switchboard.actor.id'], 'user-1');
    assert.equal(root?.attributes['gen_ai.agent.name'], 'support');
    const route = spans.find((s) => s.name === 'route');
    assert.equal(route?.attributes['switchboard.route.agent'], 'support');
    assert.deepEqual(route?.attributes['switchboard.route.candidates.names'], ['support', 'billing']);
    const chat = spans.find((s) => s.name === 'chat policy');
    assert.equal(chat?.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(chat?.attributes['gen_ai.request.model'], 'policy');
    assert.equal(typeof chat?.attributes['gen_ai.usage.input_tokens'], 'number');
    assert.equal(typeof chat?.attributes['gen_ai.usage.output_tokens'], 'number');
    const track = spans.find((s) => s.name === 'execute_tool track_parcel');
    assert.equal(track?.attributes['gen_ai.tool.name'], 'track_parcel');
    assert.ok(track?.attributes['gen_ai.tool.call.id']);
    assert.deepEqual(
      track?.events.filter((e) => e.name === 'tool.retry').map((e) => e.attributes?.attempt),
      [1],
      'the failed first attempt is a retry event',
    );
    assert.equal(track?.attributes['switchboard.tool.attempts'], 2);
    // The delegated run sits under the delegating call.
    const delegation = spans.find((s) => s.name === 'execute_tool delegate_to_billing');
    const child = spans.find((s) => s.name === 'invoke_agent billing');
    assert.equal(parentOf(child as ReadableSpan), delegation?.spanContext().spanId);
    // The refund span crossed the restart: started in process 1, ended in process 2.
    const refund = spans.find((s) => s.name === 'execute_tool refund');
    assert.ok(refund?.events.some((e) => e.attributes?.recovery === 'in-doubt-rerun'));

    const dump = JSON.stringify(
      spans.map((s) => ({ a: s.attributes, e: s.events, st: s.status, n: s.name })),
    );
    assert.ok(dump.includes('[REDACTED]'), 'the tool result was captured (content on) and redacted');
    assert.equal(
      spans.filter((s) => JSON.stringify([s.attributes, s.events, s.status]).includes(SECRET_CANARY)).length,
      0,
    );
  });
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { createSystem } from '../../src/system.ts';
import { attachTelemetry } from '../../src/telemetry/index.ts';
import { traceIdOf } from '../../src/telemetry/ids.ts';
import { tracesEnabled } from '../../src/telemetry/otel.ts';
import {
  SCRIPTED_REQUESTS,
  SECRET_CANARY,
  scriptedAgents,
  scriptedModelFor,
  scriptedRouter,
} from '../fixtures/journals/scripted-system.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

const body = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });

describe('OTLP/HTTP export', () => {
  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT and honours OTEL_SDK_DISABLED', () => {
    assert.equal(tracesEnabled({}), false);
    assert.equal(tracesEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true);
    assert.equal(
      tracesEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }),
      false,
    );
    assert.equal(
      tracesEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }),
      false,
    );
  });

  it('exports a run’s trace to a collector on 127.0.0.1', async () => {
    const received: { path: string; contentType: string; body: OtlpBody }[] = [];
    const collector = createServer((req, res) => {
      void body(req).then((text) => {
        received.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'] ?? '',
          body: JSON.parse(text) as OtlpBody,
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const store = createMemoryStore();
    const telemetry = await attachTelemetry({
      store,
      logger: false,
      metrics: false,
      secrets: [SECRET_CANARY],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'switchboard-test' },
    });
    const system = createSystem({
      agents: scriptedAgents(),
      model: scriptedModelFor(),
      router: scriptedRouter,
      store,
      pollMs: 20,
      onWarning: () => {},
    });
    await system.start();
    try {
      const { runId } = await system.submit({
        actorId: 'u',
        sessionId: 's',
        input: SCRIPTED_REQUESTS['scripted-refund-delegation'] ?? '',
      });
      assert.equal((await system.wait(runId)).status, 'completed');
      await system.stop();
      await telemetry.stop();
      assert.ok(received.length >= 1, 'the collector received at least one export');
      assert.equal(received[0]?.path, '/v1/traces');
      assert.match(received[0]?.contentType ?? '', /application\/json/);
      const spans = received.flatMap((r) =>
        r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)),
      );
      const service = received[0]?.body.resourceSpans[0]?.resource.attributes.find(
        (a) => a.key === 'service.name',
      );
      assert.equal(service?.value.stringValue, 'switchboard-test');
      assert.deepEqual([...new Set(spans.map((s) => s.traceId))], [traceIdOf(runId)]);
      const ids = new Set(spans.map((s) => s.spanId));
      assert.equal(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).length, 0, 'no orphans');
      const chat = spans.find((s) => s.name === 'chat policy');
      assert.ok(chat?.attributes.some((a) => a.key === 'gen_ai.usage.input_tokens'));
      assert.ok(spans.some((s) => s.name === 'invoke_agent billing'));
      assert.ok(!JSON.stringify(received).includes(SECRET_CANARY));
    } finally {
      await system.stop();
      collector.close();
    }
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { createSystem } from '../../src/system.ts';
import { attachTelemetry } from '../../src/telemetry/index.ts';
import {
  SCRIPTED_REQUESTS,
  scriptedAgents,
  scriptedModelFor,
  scriptedRouter,
} from '../fixtures/journals/scripted-system.ts';

interface Family {
  name: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    count?: string;
    buckets?: Record<string, string>;
  }[];
}

/** The Prometheus text-format parser (a CommonJS package without types). */
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => Family[];

const value = (families: Family[], name: string, labels: Record<string, string> = {}): number => {
  const f = families.find((x) => x.name === name);
  const m = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return Number(m?.value ?? m?.count ?? NaN);
};

describe('/metrics', () => {
  it('serves Prometheus text whose values match the runs performed', async () => {
    const store = createMemoryStore();
    const telemetry = await attachTelemetry({
      store,
      agents: ['support', 'billing'],
      spans: false,
      logger: false,
      prices: { policy: { input: 3, output: 15 } },
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
    const server = createServer((req, res) => telemetry.metrics?.handler(req, res));
    try {
      const inputs = [
        'scripted-refund-delegation',
        'scripted-track',
        'scripted-denied',
        'scripted-tool-failure',
        'scripted-escalated',
      ].map((k) => SCRIPTED_REQUESTS[k] ?? '');
      for (const [n, input] of inputs.entries()) {
        const { runId } = await system.submit({ actorId: 'u', sessionId: `s${n}`, input });
        await system.wait(runId);
      }
      await telemetry.flush();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      const text = await res.text();
      const families = parsePrometheusTextFormat(text);
      // Root runs: refund-delegation, track, denied, tool-failure complete on support; two
      // delegated billing runs (refund-delegation, denied); one escalation.
      assert.equal(value(families, 'switchboard_runs_total', { agent: 'support', status: 'completed' }), 4);
      assert.equal(value(families, 'switchboard_runs_total', { agent: 'billing', status: 'completed' }), 2);
      assert.equal(value(families, 'switchboard_runs_total', { status: 'escalated' }), 1);
      // The parser drops histogram labels: read the labelled _count series from the text itself
      // (an unlabeled agent's version is its content digest).
      assert.match(
        text,
        /^switchboard_run_duration_seconds_count\{agent="support",version="[0-9a-f]+",status="completed"\} 4$/m,
      );
      assert.match(
        text,
        /^switchboard_run_duration_seconds_count\{agent="billing",version="[0-9a-f]+",status="completed"\} 2$/m,
      );
      assert.equal(
        value(families, 'switchboard_tool_retries_total', { agent: 'support', tool: 'track_parcel' }),
        3,
      );
      assert.equal(
        value(families, 'switchboard_tool_denials_total', {
          agent: 'support',
          tool: 'refund',
          reason: 'not-permitted',
        }),
        1,
      );
      assert.equal(
        value(families, 'switchboard_tool_calls_total', { tool: 'lookup_order', outcome: 'failed' }),
        1,
      );
      assert.equal(value(families, 'switchboard_delegations_total', { from: 'support', to: 'billing' }), 2);
      assert.equal(value(families, 'switchboard_queue_depth', { queue: 'agent:support' }), 0);
      // Tokens and cost agree with the journals.
      let input = 0;
      let output = 0;
      for (const row of await store.runs.list({ limit: 100 })) {
        for (const e of await store.journal.read(row.runId))
          if (e.type === 'model.responded') {
            input += e.data.usage.inputTokens;
            output += e.data.usage.outputTokens;
          }
      }
      const sum = (name: string, labels: Record<string, string>) =>
        (families.find((f) => f.name === name)?.metrics ?? [])
          .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
          .reduce((n, m) => n + Number(m.value), 0);
      assert.equal(sum('switchboard_model_tokens_total', { direction: 'input' }), input);
      assert.equal(sum('switchboard_model_tokens_total', { direction: 'output' }), output);
      assert.ok(
        Math.abs(sum('switchboard_model_cost_usd_total', {}) - (input * 3 + output * 15) / 1e6) < 1e-9,
      );
    } finally {
      server.close();
      await system.stop();
      await telemetry.stop();
    }
  });
});

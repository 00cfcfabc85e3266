/**
 * Issue 17 hardening #22: `OTEL_BSP_*` (configuration `telemetry.otlp.batch.*`) reaches the batch
 * span processor of a serving process, against real OTLP/HTTP receivers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { telemetryFor } from '../../src/cli/serve.ts';
import { compileConfig, type Env } from '../../src/config.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { openProject, type Project } from '../../src/project.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import type { Telemetry } from '../../src/telemetry/index.ts';
import { traceIdOf } from '../../src/telemetry/ids.ts';
import {
  SCRIPTED_REQUESTS,
  scriptedAgents,
  scriptedModelFor,
  scriptedRouter,
} from '../fixtures/journals/scripted-system.ts';

/** An OTLP/HTTP receiver: the trace ids of every export, in arrival order; `first` when one came. */
async function receiver(): Promise<{
  server: Server;
  endpoint: string;
  traces: string[][];
  first: Promise<void>;
}> {
  const traces: string[][] = [];
  let arrived!: () => void;
  const first = new Promise<void>((resolve) => (arrived = resolve));
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as {
        resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[];
      };
      traces.push(
        body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.traceId))),
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      arrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, traces, first };
}

/** A project as `serve` opens it: configuration compiled from the environment, its telemetry. */
async function serving(env: Env): Promise<{ project: Project; telemetry: Telemetry }> {
  const config = compileConfig(
    { agents: scriptedAgents(), routing: { router: scriptedRouter }, limits: { pollMs: 20 } },
    { env },
  );
  const project = await openProject(config, { env, store: createMemoryStore(), model: scriptedModelFor() });
  await project.system.start();
  return { project, telemetry: await telemetryFor(project) };
}

async function completeRun(project: Project): Promise<string> {
  const { runId } = await project.system.submit({
    actorId: 'u',
    sessionId: `s-${Math.random()}`,
    input: SCRIPTED_REQUESTS['scripted-track'] ?? '',
  });
  assert.equal((await project.system.wait(runId)).status, 'completed');
  return runId;
}

describe('hardening #22: OTEL_BSP_* batch settings are honoured', () => {
  it('a 100 ms schedule delay delivers a run finished later before the default 5 s delay delivers an earlier one', async () => {
    const slow = await receiver();
    const fast = await receiver();
    const a = await serving({ OTEL_EXPORTER_OTLP_ENDPOINT: slow.endpoint });
    const b = await serving({ OTEL_EXPORTER_OTLP_ENDPOINT: fast.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' });
    assert.equal(b.project.config.telemetry.otlp.batch?.scheduleDelayMs, 100);
    try {
      // The default-delay run finishes first, so its batch timer started first.
      const slowRun = await completeRun(a.project);
      const fastRun = await completeRun(b.project);
      await fast.first;
      assert.equal(slow.traces.length, 0, 'the default 5 s batch has not been exported yet');
      assert.ok(fast.traces.flat().includes(traceIdOf(fastRun)));
      // Flushing delivers the other one: it was only waiting.
      await a.telemetry.flush();
      assert.ok(slow.traces.flat().includes(traceIdOf(slowRun)));
    } finally {
      for (const s of [a, b]) {
        await s.telemetry.stop();
        await s.project.close();
      }
      slow.server.close();
      fast.server.close();
    }
  });

  it('every OTEL_BSP_* variable maps onto telemetry.otlp.batch; bad values are one-line errors naming them', () => {
    const config = compileConfig(
      { agents: scriptedAgents() },
      {
        env: {
          OTEL_BSP_SCHEDULE_DELAY: '250',
          OTEL_BSP_EXPORT_TIMEOUT: '9000',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '64',
          OTEL_BSP_MAX_QUEUE_SIZE: '128',
        },
      },
    );
    assert.deepEqual(config.telemetry.otlp.batch, {
      scheduleDelayMs: 250,
      exportTimeoutMs: 9000,
      maxExportBatchSize: 64,
      maxQueueSize: 128,
    });
    assert.throws(
      () => compileConfig({ agents: scriptedAgents() }, { env: { OTEL_BSP_SCHEDULE_DELAY: 'soon' } }),
      (e: unknown) => e instanceof ConfigError && e.key === 'OTEL_BSP_SCHEDULE_DELAY',
    );
    assert.throws(
      () =>
        compileConfig(
          { agents: scriptedAgents() },
          { env: { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096', OTEL_BSP_MAX_QUEUE_SIZE: '100' } },
        ),
      (e: unknown) => e instanceof ConfigError && /maxQueueSize/.test(e.message),
    );
  });
});

/**
 * `npm run bench:batch -- --json`: does a batch starve interactive traffic? Interactive runs are
 * submitted at a steady pace to one agent (concurrency 4, a tool that takes `--tool-ms`) — first
 * with nothing else running (idle), then while a 1,000-record batch runs on the same agent with the
 * default fairness (`batch.share` 0.5), then with the share bound lifted (share 1, 16 in flight) to
 * show what the bound buys. Reported: interactive p50/p95 latency (submit → completed) per phase and
 * the ratio of the batch phase's p95 to idle's (goal ≤ 2×), and the batch's throughput.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createBatch, driveBatch } from '../src/batch/driver.ts';
import { defineAgent } from '../src/core/agent.ts';
import { defineTool } from '../src/core/tool.ts';
import { policyModel, toolResults } from '../src/models/scripted.ts';
import { createSqliteStore } from '../src/store/sqlite/store.ts';
import { createSystem, type System } from '../src/system.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    records: { type: 'string', default: '1000' },
    interactive: { type: 'string', default: '60' },
    'every-ms': { type: 'string', default: '100' },
    'tool-ms': { type: 'string', default: '20' },
  },
  strict: true,
});
const RECORDS = Number(values.records);
const INTERACTIVE = Number(values.interactive);
const EVERY_MS = Number(values['every-ms']);
const TOOL_MS = Number(values['tool-ms']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const lookup = defineTool({
  name: 'lookup',
  description: 'Look up an order',
  input: z.object({ id: z.number() }),
  risk: 'read',
  idempotent: true,
  run: async ({ id }) => {
    await sleep(TOOL_MS); // a real lookup waits on a database or an API
    return { id, status: 'shipped' };
  },
});
const agent = defineAgent({
  name: 'orders',
  responsibility: 'Orders',
  instructions: 'Answer.',
  tools: [lookup],
  concurrency: 4,
});
const model = policyModel(({ prompt }) =>
  toolResults(prompt).length
    ? { text: 'It shipped.' }
    : { toolCalls: [{ toolName: 'lookup', input: { id: 7 } }] },
);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

/** Interactive runs at a steady pace; their latencies, submit → completed. */
async function interactive(system: System, label: string): Promise<number[]> {
  const waits: Promise<number>[] = [];
  for (let i = 0; i < INTERACTIVE; i++) {
    const t0 = performance.now();
    const { runId } = await system.submit({
      actorId: 'user',
      sessionId: `${label}-${i}`,
      input: 'Where is order 7?',
    });
    waits.push(system.wait(runId).then(() => performance.now() - t0));
    await sleep(EVERY_MS);
  }
  return Promise.all(waits);
}

interface Phase {
  phase: string;
  p50Ms: number;
  p95Ms: number;
  batch?: { records: number; share: number; concurrency: number; runsPerS: number; overlapped: boolean };
}

async function phase(name: string, batch: { share: number; concurrency: number } | null): Promise<Phase> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-batch-'));
  const system = createSystem({
    agents: [agent],
    model,
    store: createSqliteStore({ path: join(dir, 'switchboard.db') }),
    pollMs: 50,
    onError: () => {},
    onWarning: () => {},
  });
  await system.start();
  try {
    let driving: Promise<number> | null = null;
    if (batch) {
      const text = Array.from({ length: RECORDS }, (_, i) =>
        JSON.stringify({ input: `Where is order ${i}?` }),
      ).join('\n');
      const { batch: b } = await createBatch(system, { text, owner: 'ops', origin: 'cli', agent: 'orders' });
      const t0 = performance.now();
      driving = driveBatch(system, b.batchId, { ...batch, pollMs: 50 }).then(() => performance.now() - t0);
      await sleep(500); // the batch is in full swing before interactive traffic starts
    }
    let batchDone = false;
    void driving?.then(() => (batchDone = true));
    const lat = await interactive(system, name);
    const overlapped = !batchDone;
    const batchMs = driving ? await driving : 0;
    return {
      phase: name,
      p50Ms: Math.round(pct(lat, 50)),
      p95Ms: Math.round(pct(lat, 95)),
      ...(batch
        ? {
            batch: {
              records: RECORDS,
              ...batch,
              runsPerS: Math.round((RECORDS / batchMs) * 1000 * 10) / 10,
              overlapped,
            },
          }
        : {}),
    };
  } finally {
    await system.stop();
    await system.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const idle = await phase('idle', null);
const fair = await phase('batch (share 0.5)', { share: 0.5, concurrency: 8 });
const unbounded = await phase('batch (share 1, 16 in flight)', { share: 1, concurrency: 16 });
const ratio = (p: Phase) => Math.round((p.p95Ms / idle.p95Ms) * 100) / 100;
const result = {
  records: RECORDS,
  interactive: INTERACTIVE,
  everyMs: EVERY_MS,
  toolMs: TOOL_MS,
  phases: [idle, fair, unbounded],
  p95Ratio: ratio(fair),
  p95RatioUnbounded: ratio(unbounded),
  goal: '≤ 2×',
  met: ratio(fair) <= 2,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`| phase | interactive p50 | interactive p95 | p95 vs idle | batch runs/s |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  for (const p of result.phases)
    console.log(
      `| ${p.phase} | ${p.p50Ms} ms | ${p.p95Ms} ms | ${ratio(p)}× | ${p.batch ? `${p.batch.runsPerS}${p.batch.overlapped ? '' : ' (ended early)'}` : '–'} |`,
    );
  console.log(
    `\ngoal: p95 during the batch ≤ 2× idle — ${result.met ? 'met' : 'NOT met'} (${result.p95Ratio}×)`,
  );
}

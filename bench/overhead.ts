/**
 * `npm run bench:overhead -- --json`: what the engine costs per step when the model and tools cost
 * nothing. A zero-latency policy model does model → tool → model → answer; the same workload runs
 * on the durable SQLite store (synchronous=FULL), SQLite with synchronous=NORMAL (to show the
 * price of FULL), and the in-memory store — interleaved in one process, medians over rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defineAgent } from '../src/core/agent.ts';
import { defineTool } from '../src/core/tool.ts';
import { policyModel, toolResults } from '../src/models/scripted.ts';
import { createMemoryStore } from '../src/store/memory/store.ts';
import type { Store } from '../src/store/ports.ts';
import { createSqliteStore } from '../src/store/sqlite/store.ts';
import { createSystem, type System } from '../src/system.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '32' },
  },
  strict: true,
});
const rounds = Number(values.rounds);
const runsPerRound = Number(values.runs);
const concurrency = Number(values.concurrency);
const STEPS_PER_RUN = 3; // model, tool, model

const lookup = defineTool({
  name: 'lookup',
  description: 'Look up an order',
  input: z.object({ id: z.number() }),
  risk: 'read',
  idempotent: true,
  run: ({ id }) => ({ id, status: 'shipped' }),
});
const agent = defineAgent({
  name: 'orders',
  responsibility: 'Orders',
  instructions: 'Answer.',
  tools: [lookup],
});
const model = policyModel(({ prompt }) =>
  toolResults(prompt).length
    ? { text: 'It shipped.' }
    : { toolCalls: [{ toolName: 'lookup', input: { id: 7 } }] },
);

type Kind = 'sqlite' | 'sqlite-normal' | 'memory';

async function open(kind: Kind): Promise<{ system: System; close: () => Promise<void> }> {
  let store: Store;
  let dir: string | null = null;
  if (kind === 'memory') store = createMemoryStore();
  else {
    dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
    store = createSqliteStore({
      path: join(dir, 'switchboard.db'),
      synchronous: kind === 'sqlite' ? 'FULL' : 'NORMAL',
    });
  }
  const system = createSystem({ agents: [{ ...agent, concurrency }], model, store, onWarning: () => {} });
  await system.start();
  return {
    system,
    close: async () => {
      await system.stop();
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const median = (xs: number[]): number => quantile(xs, 0.5);

interface Round {
  perStep: number[];
  runsPerSecond: number;
  stepsPerSecond: number;
  sequentialRunsPerSecond: number;
}

async function round(kind: Kind, r: number): Promise<Round> {
  const { system, close } = await open(kind);
  try {
    // Warm-up: JIT, prepared statements, worker loops.
    for (let i = 0; i < 20; i++)
      await system.wait((await system.submit({ actorId: 'b', sessionId: `w${i}`, input: 'x' })).runId);
    // Concurrency 1: the latency of one run on an idle system, divided by its steps.
    const perStep: number[] = [];
    const seq0 = performance.now();
    const sequential = Math.max(20, Math.floor(runsPerRound / 2));
    for (let i = 0; i < sequential; i++) {
      const t0 = performance.now();
      const { runId } = await system.submit({
        actorId: 'b',
        sessionId: `r${r}s${i}`,
        input: 'where is order 7',
      });
      const run = await system.wait(runId);
      if (run.status !== 'completed') throw new Error(`run ${runId} ${run.status}`);
      perStep.push((performance.now() - t0) / STEPS_PER_RUN);
    }
    const sequentialRunsPerSecond = sequential / ((performance.now() - seq0) / 1000);
    // Concurrency N: throughput with many runs in flight (group commit shares fsyncs).
    const t1 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < runsPerRound) {
          const i = next++;
          const { runId } = await system.submit({
            actorId: 'b',
            sessionId: `r${r}c${i}`,
            input: 'where is order 7',
          });
          await system.wait(runId);
        }
      }),
    );
    const seconds = (performance.now() - t1) / 1000;
    return {
      perStep,
      runsPerSecond: runsPerRound / seconds,
      stepsPerSecond: (runsPerRound * STEPS_PER_RUN) / seconds,
      sequentialRunsPerSecond,
    };
  } finally {
    await close();
  }
}

/** Baseline: one bare SQLite insert+commit with synchronous=FULL — what the disk charges per fsync right now. */
async function fsyncBaseline(): Promise<number> {
  const { DatabaseSync } = await import('node:sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'sb-fsync-'));
  const db = new DatabaseSync(join(dir, 'f.db'));
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)',
  );
  const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    db.exec('BEGIN');
    ins.run('x'.repeat(200));
    db.exec('COMMIT');
    samples.push(performance.now() - t0);
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return median(samples);
}

const kinds: Kind[] = ['sqlite', 'sqlite-normal', 'memory'];
const fsyncs: number[] = [];
const results = new Map<Kind, Round[]>(kinds.map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  fsyncs.push(await fsyncBaseline());
  for (const k of kinds) results.get(k)?.push(await round(k, r));
}

const summary = (k: Kind) => {
  const rs = results.get(k) ?? [];
  const all = rs.flatMap((x) => x.perStep);
  const stepsPerSecond = median(rs.map((x) => x.stepsPerSecond));
  return {
    stepsPerSecond: Math.round(stepsPerSecond),
    /** Wall time per step with `concurrency` runs in flight (group commit shares fsyncs). */
    amortizedMsPerStep: +(1000 / stepsPerSecond).toFixed(3),
    overheadMsPerStep: { p50: +quantile(all, 0.5).toFixed(3), p99: +quantile(all, 0.99).toFixed(3) },
    runsPerSecond: Math.round(median(rs.map((x) => x.runsPerSecond))),
    runsPerSecondSequential: Math.round(median(rs.map((x) => x.sequentialRunsPerSecond))),
  };
};
const durable = summary('sqlite');
const out = {
  ...durable,
  store: 'sqlite (synchronous=FULL)',
  concurrency,
  rounds,
  sqliteNormal: summary('sqlite-normal'),
  memory: summary('memory'),
  /** Median cost of one bare fsync'd commit on this disk during the run: the floor a durable step pays. */
  fsyncMsPerCommit: +median(fsyncs).toFixed(3),
  ratios: {
    overheadP50DurableVsFsync: +(durable.overheadMsPerStep.p50 / median(fsyncs)).toFixed(2),
    overheadP50DurableVsMemory: +(
      durable.overheadMsPerStep.p50 / summary('memory').overheadMsPerStep.p50
    ).toFixed(2),
    runsPerSecondDurableVsMemory: +(durable.runsPerSecond / summary('memory').runsPerSecond).toFixed(2),
  },
};
if (values.json) console.log(JSON.stringify(out));
else console.log(JSON.stringify(out, null, 2));

// Switchboard: a triage agent that delegates to a worker agent (the runtime gives triage the tool
// `delegate_to_worker`; the child run's output comes back as its result, and triage answers). Every
// step is journaled in the store: SQLite on disk or PostgreSQL (durable), or the in-memory store.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';
import {
  TOOL_NAMES,
  TOOL_SPECS,
  TRIAGE_INSTRUCTIONS,
  WORKER_DESCRIPTION,
  WORKER_INSTRUCTIONS,
  callTool,
  fromAiSdkPrompt,
  modelStep,
  nextCallId,
  type Harness,
} from '../workload.ts';
import { pgSchema, tempDir } from './stores.ts';

// The Switchboard under test: this checkout by default, or SWITCHBOARD_ROOT (e.g. an exported
// commit), loaded from its build (dist/, which run.ts refreshes) the way an installed package is —
// with its own zod, the one a user of Switchboard would have, not bench/peers' copy.
const root = process.env.SWITCHBOARD_ROOT
  ? pathToFileURL(`${process.env.SWITCHBOARD_ROOT}/`)
  : new URL('../../../', import.meta.url);
const { createMemoryStore, createSqliteStore, createSystem, defineAgent, defineTool } = (await import(
  new URL('dist/src/index.js', root).href
)) as typeof import('../../../src/index.ts');
// The PostgreSQL store: the package's `switchboard-runtime/postgres` subpath, or in builds older than
// the subpath (SWITCHBOARD_ROOT may be an earlier commit) its module, which bundled builds no longer have.
const loadPostgresStore = async () =>
  (await import(
    new URL(
      existsSync(new URL('dist/src/store/postgres/index.js', root))
        ? 'dist/src/store/postgres/index.js'
        : 'dist/src/store/postgres/store.js',
      root,
    ).href
  )) as typeof import('../../../src/store/postgres/store.ts');
const { z } = (await import(new URL('node_modules/zod/index.js', root).href)) as typeof import('zod');

/** Runs in flight per agent: the peers have no limit, so neither does the benchmark (default 4). */
const CONCURRENCY = 32;

async function generate(options: LanguageModelV4CallOptions) {
  const shown = (options.tools ?? []).map((t) => t.name);
  const decision = await modelStep(
    shown,
    fromAiSdkPrompt(options.prompt as Parameters<typeof fromAiSdkPrompt>[0]),
  );
  const usage = {
    inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 10, text: 10, reasoning: undefined },
  };
  if (decision.kind === 'final') {
    return {
      content: [{ type: 'text' as const, text: decision.text }],
      finishReason: { unified: 'stop' as const, raw: undefined },
      usage,
      warnings: [],
    };
  }
  const toolName =
    decision.kind === 'handoff' ? (shown.find((n) => n.includes('worker')) ?? '') : decision.name;
  const input = decision.kind === 'handoff' ? { task: decision.task } : decision.args;
  return {
    content: [
      { type: 'tool-call' as const, toolCallId: nextCallId(), toolName, input: JSON.stringify(input) },
    ],
    finishReason: { unified: 'tool-calls' as const, raw: undefined },
    usage,
    warnings: [],
  };
}

/**
 * The fake model: the shared policy behind the AI SDK LanguageModelV4 interface. (Switchboard's
 * own `policyModel` test helper records every prompt it sees, which a benchmark must not retain.)
 */
const policyModel = {
  specificationVersion: 'v4',
  provider: 'bench',
  modelId: 'policy',
  supportedUrls: {},
  doGenerate: generate,
  async doStream(options: LanguageModelV4CallOptions) {
    const result = await generate(options);
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: [] });
        for (const part of result.content) {
          if (part.type === 'text') {
            controller.enqueue({ type: 'text-start', id: 't' });
            controller.enqueue({ type: 'text-delta', id: 't', delta: part.text });
            controller.enqueue({ type: 'text-end', id: 't' });
          } else controller.enqueue(part);
        }
        controller.enqueue({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
        controller.close();
      },
    });
    return { stream };
  },
} as unknown as LanguageModelV4;

/**
 * `sqlite`: the default, durable store (synchronous=FULL: every commit is fsynced, so a committed
 * step survives power loss). `sqlite-normal`: synchronous=NORMAL, which survives a process crash
 * but may lose the last commits on power loss — a diagnostic that separates fsync from engine time.
 * `postgres`: the PostgreSQL store with its defaults (pg-boss wake-ups, LISTEN/NOTIFY) in a schema
 * of this process's own, dropped on close.
 */
export async function createSwitchboard(
  storeKind: 'sqlite' | 'sqlite-normal' | 'postgres' | 'memory',
): Promise<Harness> {
  const tools = TOOL_NAMES.map((name) => {
    const spec = TOOL_SPECS[name];
    return defineTool({
      name,
      description: spec.description,
      input: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
      risk: name === 'open_ticket' ? 'write' : 'read',
      idempotent: true,
      run: async (args: Record<string, string>) => callTool(name, args),
    });
  });
  const worker = defineAgent({
    name: 'worker',
    responsibility: WORKER_DESCRIPTION,
    instructions: WORKER_INSTRUCTIONS,
    tools,
    concurrency: CONCURRENCY,
  });
  const triage = defineAgent({
    name: 'triage',
    responsibility: 'Routes customer requests to the agent that owns them.',
    instructions: TRIAGE_INSTRUCTIONS,
    tools: [],
    delegates: ['worker'],
    concurrency: CONCURRENCY,
  });
  const { store, remove } = await openStore(storeKind);
  const system = createSystem({ agents: [triage, worker], model: policyModel, store });
  await system.start();
  let session = 0;
  return {
    async run(input) {
      // One session per run: runs in one session are processed in order, and the peers' runs are
      // independent conversations too.
      const { runId } = await system.submit({
        actorId: 'bench',
        sessionId: `s${++session}`,
        input,
        agent: 'triage',
      });
      const run = await system.wait(runId);
      if (run.status !== 'completed')
        throw new Error(`run ${runId} ended ${run.status}: ${JSON.stringify(run.error)}`);
      return run.output ?? '';
    },
    async close() {
      await system.stop();
      await store.close();
      await remove();
    },
  };
}

/** The store (the system does not close a store it was given), and how to remove its data after. */
async function openStore(kind: Parameters<typeof createSwitchboard>[0]) {
  if (kind === 'memory') return { store: createMemoryStore(), remove: async () => {} };
  if (kind === 'postgres') {
    const db = await pgSchema('sb', ['boss']);
    const { createPostgresStore } = await loadPostgresStore();
    const store = createPostgresStore({ url: db.url, schema: db.schema, bossSchema: `${db.schema}_boss` });
    await store.ready();
    return { store, remove: db.drop };
  }
  const dir = tempDir('switchboard-bench');
  const store = createSqliteStore({
    path: join(dir.path, 'switchboard.db'),
    synchronous: kind === 'sqlite-normal' ? 'NORMAL' : 'FULL',
  });
  return { store, remove: async () => dir.remove() };
}

// Switchboard, realistic workload: four agents (front, account, orders, billing) and no triage
// model call — runs are submitted without an agent and the router (fitted on the agents'
// responsibilities and examples) picks one from the request. Every agent has tool retrieval on,
// so each model call is shown only the tools the conversation so far needs. Both turns of a run
// share one session: turn 2's billing run is given turn 1 by short-term memory. Billing delegates
// to orders through `delegate_to_orders` (no approval rule applies) and refunds with
// `refund_charge`, a non-idempotent write whose progress milestone is journaled.
// Shares the best-case adapter's way of loading the build (dist/, like an installed package).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../frameworks/stores.ts';
import {
  AGENTS,
  TOOL_SPECS,
  TURN_1,
  agentToolName,
  callTool,
  modelStep,
  onProgress,
  type AgentName,
  type Harness,
} from '../realistic.ts';
import { stats } from '../workload.ts';
import { policyModelV4 } from './ai-sdk-model.ts';

const root = process.env.SWITCHBOARD_ROOT
  ? pathToFileURL(`${process.env.SWITCHBOARD_ROOT}/`)
  : new URL('../../../', import.meta.url);
const { createMemoryStore, createSqliteStore, createSystem, defineAgent, defineTool } = (await import(
  new URL('dist/src/index.js', root).href
)) as typeof import('../../../src/index.ts');
const { z } = (await import(new URL('node_modules/zod/index.js', root).href)) as typeof import('zod');

/**
 * Switchboard has every feature the workload uses; these are the settings it needed beyond its
 * defaults, listed so that the table says so.
 */
export const limitations: string[] = [
  'tool retrieval runs at toolThreshold 0.3: at the default 0.5 billing abstains on turn 2 (the memory turns in the retrieval query dilute refund_charge to confidence 0.43) and is shown no tools',
  "billing's delegate_to_orders is pinned: ranked by the orders agent's examples it comes 4th of 5 behind billing's own tools",
];

/** Runs in flight per agent: the peers have no limit, so neither does the benchmark (default 4). */
const CONCURRENCY = 32;
/** The retrievers' confidence threshold (see createSystem below). */
const TOOL_THRESHOLD = 0.3;

const model = policyModelV4(async (shown, transcript) => {
  const d = await modelStep(shown, transcript);
  if (d.kind === 'final') return { text: d.text };
  if (d.kind === 'call') return { toolName: d.name, input: d.args };
  return { toolName: agentToolName(shown, d.target), input: { task: d.task } };
});

export async function createSwitchboard(storeKind: 'sqlite' | 'memory'): Promise<Harness> {
  const agents = (Object.keys(AGENTS) as AgentName[]).map((name) => {
    const a = AGENTS[name];
    return defineAgent({
      name,
      responsibility: a.responsibility,
      instructions: a.instructions,
      examples: a.examples,
      tools: a.tools.map((tool) => {
        const spec = TOOL_SPECS[tool];
        return defineTool({
          name: tool,
          description: spec.description,
          input: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
          risk: spec.risk,
          idempotent: spec.idempotent,
          ...(spec.progress ? { progress: spec.progress } : {}),
          examples: spec.examples,
          run: async (args: Record<string, string>) => callTool(tool, args),
        });
      }),
      ...(name === 'billing' ? { delegates: ['orders'] } : {}),
      // Retrieval on for every agent (by default only from 10 tools): at most 3 tools shown. Billing
      // always consults orders, so its delegation is pinned (ranked on the orders agent's examples,
      // it comes 4th behind billing's own tools).
      toolRetrieval: { enabled: true, topK: 3, pinned: name === 'billing' ? ['delegate_to_orders'] : [] },
      concurrency: CONCURRENCY,
    });
  });
  const dir = storeKind === 'sqlite' ? tempDir('switchboard-realistic') : undefined;
  const store = dir
    ? createSqliteStore({ path: join(dir.path, 'switchboard.db'), synchronous: 'FULL' })
    : createMemoryStore();
  // toolThreshold 0.3 (default 0.5): on turn 2 the retrieval query holds the memory's turns too,
  // which dilutes the confidence of the right tools (0.43 for refund_charge) below the default.
  const system = createSystem({
    agents,
    model,
    store,
    routerConcurrency: CONCURRENCY,
    toolThreshold: TOOL_THRESHOLD,
  });
  await system.start();
  let session = 0;
  const turn = async (sessionId: string, input: string) => {
    // No `agent`: the router picks it.
    const { runId } = await system.submit({ actorId: 'bench', sessionId, input });
    const run = await system.wait(runId);
    if (run.status !== 'completed')
      throw new Error(`run ${runId} ended ${run.status}: ${JSON.stringify(run.error)}`);
    if (stats.tracing) {
      const events = await system.store.journal.read(runId);
      for (const e of events) if (e.type === 'progress') onProgress();
      const routed = events.find((e) => e.type === 'route.decided') as
        { data?: { agent?: string } } | undefined;
      if (!routed) throw new Error(`run ${runId} was not routed`);
    }
    return run.output ?? '';
  };
  return {
    async run(input) {
      const sessionId = `s${++session}`;
      await turn(sessionId, TURN_1);
      return turn(sessionId, input);
    },
    async close() {
      await system.stop();
      await store.close();
      dir?.remove();
    },
  };
}

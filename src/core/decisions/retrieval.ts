/**
 * Which tools the model is shown at a step, decided once for the engine and for replay: with tool
 * retrieval on, the retriever ranks the agent's tools against the conversation so far (a request
 * rarely names the lookup tools it needs) and the shown ones keep the retriever's order.
 */
import type { ToolRetrievalOptions } from '../agent.ts';
import type { Turn } from '../run-state.ts';
import type { ToolRetrieval, ToolRetriever } from '../routing-port.ts';

/** The text the tool retriever is given: every turn of the conversation so far, one per line. */
export function retrievalQuery(turns: readonly Turn[]): string {
  return turns
    .map((t) => (t.role === 'tool' ? `${t.toolName} ${JSON.stringify(t.output)}` : t.text))
    .join('\n');
}

/** The retriever of an agent version: its own (`name@label`) first, else the agent name's. */
export function retrieverOf(
  retrievers: ReadonlyMap<string, ToolRetriever> | undefined,
  agent: { key?: string; name: string },
): ToolRetriever | undefined {
  return (agent.key !== undefined ? retrievers?.get(agent.key) : undefined) ?? retrievers?.get(agent.name);
}

/** The tools of one model step: the retrieval to journal (none when retrieval is off) and the specs shown. */
export interface StepTools<S extends { name: string }> {
  retrieved?: ToolRetrieval;
  specs: S[];
}

/**
 * The tools shown to the model at the next step.
 * @example
 * stepTools(agent.specs, state.turns, retriever, agent.def.toolRetrieval).specs.map((s) => s.name);
 */
export function stepTools<S extends { name: string }>(
  specs: readonly S[],
  turns: readonly Turn[],
  retriever: ToolRetriever | undefined,
  retrieval: ToolRetrievalOptions | undefined,
): StepTools<S> {
  if (!retriever || !retrieval?.enabled) return { specs: [...specs] };
  const retrieved = retriever.retrieve(retrievalQuery(turns), {
    permitted: new Set(specs.map((s) => s.name)),
    topK: retrieval.topK,
    pinned: retrieval.pinned,
  });
  const order = new Map(retrieved.shown.map((n, i) => [n, i]));
  const shown = specs
    .filter((s) => order.has(s.name))
    .sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  return { retrieved, specs: shown };
}

/**
 * Short-term memory, derived from the journal: the last k turns of this actor's session (each
 * finished run's request and answer), and a bounded working-state summary of the ids earlier tool
 * results produced — per agent. Keyed only by (actorId, sessionId): another actor's runs are never
 * listed, because the runs projection is queried by both.
 */
import type { JournalEvent, MemoryContextData } from '../core/events.ts';
import type { FactRow, Store } from '../store/ports.ts';
import { searchFacts } from './facts.ts';

export interface LoadRequest {
  actorId: string;
  sessionId: string;
  agent: string;
  runId: string;
  /** The current user request (for fact retrieval). */
  input: string;
  /** How many earlier turns to replay. */
  k: number;
  /** Only runs newer than this (retention). */
  since: number;
  now: number;
  /** Most long-term facts to inject. */
  maxFacts: number;
}

const MAX_ENTITIES = 10;
const MAX_LISTS = 3;
const MAX_LIST_IDS = 10;
/** What counts as an id worth remembering: ORD-10042, CUS-0042, TRK-AB12CD34, … */
const ID = /^[A-Z][A-Z0-9]{1,5}-[A-Z0-9]{3,}$/;
const ID_KEY = /(^id$|Id$|_id$|^reference$|^number$)/;

/** Ids and ordered id lists in a tool result, shallowly (the summary stays bounded). */
function scan(result: unknown, from: string, out: MemoryContextData['workingState']): void {
  const visit = (value: unknown, key: string, depth: number): void => {
    if (depth > 3 || value === null || value === undefined) return;
    if (typeof value === 'string') {
      if (ID.test(value) || (ID_KEY.test(key) && value.length <= 40)) out.entities.push({ key, value, from });
      return;
    }
    if (Array.isArray(value)) {
      const ids: string[] = [];
      for (const item of value.slice(0, 50)) {
        if (item && typeof item === 'object') {
          const idEntry = Object.entries(item as Record<string, unknown>).find(
            ([k, v]) => typeof v === 'string' && (ID.test(v) || ID_KEY.test(k)),
          );
          if (idEntry) ids.push(String(idEntry[1]));
        } else if (typeof item === 'string' && ID.test(item)) ids.push(item);
      }
      if (ids.length > 1) out.lists.push({ from, ids: ids.slice(0, MAX_LIST_IDS) });
      return;
    }
    if (typeof value === 'object')
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) visit(v, k, depth + 1);
  };
  visit(result, '', 0);
}

/** The working state of one agent from the tool results of its earlier runs, newest last, bounded. */
export function workingStateOf(
  journals: readonly JournalEvent[][],
  agent: string,
): MemoryContextData['workingState'] {
  const out: MemoryContextData['workingState'] = { entities: [], lists: [] };
  for (const events of journals) {
    let runAgent: string | undefined;
    for (const e of events) {
      if (e.type === 'agent.started') runAgent = e.data.agent;
      // Per-agent isolation: another agent's tool results are its own.
      if (e.type === 'tool.succeeded' && runAgent === agent) scan(e.data.result, e.data.tool, out);
    }
  }
  const seen = new Set<string>();
  const entities = out.entities
    .reverse()
    .filter((x) => (seen.has(`${x.key}=${x.value}`) ? false : (seen.add(`${x.key}=${x.value}`), true)))
    .slice(0, MAX_ENTITIES)
    .reverse();
  return { entities, lists: out.lists.slice(-MAX_LISTS) };
}

/** Rough token count (4 characters a token) for the journal's `tokens` field. */
export const estimateTokens = (context: MemoryContextData): number =>
  Math.ceil(JSON.stringify(context).length / 4);

/** Load the context for an agent's start: last k turns, the agent's working state, relevant facts. */
export async function loadShortTerm(store: Store, req: LoadRequest): Promise<MemoryContextData> {
  const rows = (
    await store.runs.list({ actorId: req.actorId, sessionId: req.sessionId, limit: Math.max(20, req.k * 4) })
  )
    .filter((r) => r.parentRunId === null && r.runId !== req.runId && r.createdAt >= req.since)
    .sort((a, b) => a.createdAt - b.createdAt || a.runId.localeCompare(b.runId));
  const journals: JournalEvent[][] = [];
  const turns: MemoryContextData['turns'] = [];
  for (const row of rows) {
    const events = await store.journal.read(row.runId);
    const first = events[0];
    // Defence in depth: the journal itself must say this actor and session.
    if (
      first?.type !== 'run.submitted' ||
      first.data.actorId !== req.actorId ||
      first.data.sessionId !== req.sessionId
    )
      continue;
    const end = events.findLast((e) => e.type === 'run.completed');
    if (!end || end.type !== 'run.completed') continue;
    // Only what was persisted is remembered: a run of an agent with memory off is not replayed.
    if (!events.some((e) => e.type === 'memory.persisted')) continue;
    journals.push(events);
    turns.push({ role: 'user', text: first.data.input, runId: row.runId });
    turns.push({ role: 'assistant', text: end.data.output, runId: row.runId });
  }
  const facts: FactRow[] = searchFacts(await store.facts.list(req.actorId, req.now), req.input, req.maxFacts);
  return {
    turns: turns.slice(-2 * req.k),
    workingState: workingStateOf(journals.slice(-req.k), req.agent),
    facts: facts.map((f) => ({ namespace: f.namespace, key: f.key, value: f.value, trusted: f.trusted })),
  };
}

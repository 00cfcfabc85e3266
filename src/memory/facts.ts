/**
 * Long-term memory: namespaced facts per actor, written explicitly (the `remember` tool or the
 * library API), with provenance, an optional TTL, and lexical retrieval.
 */
import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../core/tool.ts';
import type { FactRow, Store } from '../store/ports.ts';

const words = (s: string): Set<string> =>
  new Set(
    s
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 2),
  );

/** The actor's facts most similar to the query (word overlap), at most `limit`; none when nothing overlaps. */
export function searchFacts(facts: readonly FactRow[], query: string, limit: number): FactRow[] {
  const q = words(query);
  return facts
    .map((f) => {
      const w = words(`${f.namespace} ${f.key} ${f.value}`);
      let overlap = 0;
      for (const x of q) if (w.has(x)) overlap++;
      return { f, score: overlap / Math.sqrt(w.size || 1) };
    })
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || b.f.createdAt - a.f.createdAt)
    .slice(0, limit)
    .map((x) => x.f);
}

export const rememberInput = z.object({
  key: z.string().min(1).max(100).describe('What the fact is about, e.g. "preferred_language"'),
  value: z.string().min(1).max(1000).describe('The fact'),
  namespace: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/)
    .optional()
    .describe('A namespace under the actor, e.g. "preferences"'),
});

/** The built-in `remember` tool: writes a fact for the run's actor (never another actor's). */
export function rememberTool(
  store: Store,
  newId: (prefix: string) => string,
): ToolDefinition<z.infer<typeof rememberInput>, unknown> {
  return defineTool({
    name: 'remember',
    description:
      'Remember a fact about the current user for later conversations (a preference, a detail they asked you to keep).',
    input: rememberInput,
    risk: 'write',
    idempotent: true,
    domain: 'memory',
    run: async ({ key, value, namespace }, ctx) => {
      // The actor comes from the run (authenticated principal), never from the model's arguments.
      await store.facts.put({
        id: newId('fact'),
        actorId: ctx.actorId,
        namespace: namespace ?? 'notes',
        key,
        value,
        source: 'agent',
        trusted: true,
        runId: ctx.runId,
        callId: ctx.callId,
        createdAt: Date.now(),
        expiresAt: null,
      });
      return { remembered: `${namespace ?? 'notes'}/${key}` };
    },
  });
}

/**
 * `system.memory`: what is remembered about an actor, by actor (never another's). The actor id
 * always comes from the caller — the authenticated principal at the gateway, the library caller
 * here — never from a request body or a model's arguments. It lives in the runtime, not in
 * memory/, because forgetting journals the erasure and drops the engine's cached runs.
 */
import { UserError } from '../core/errors.ts';
import { exportActor, type ForgetReport } from '../memory/erasure.ts';
import { loadShortTerm } from '../memory/short-term.ts';
import type { FactRow, Store } from '../store/ports.ts';
import type { Engine } from './engine.ts';
import { forgetActor } from './erasure.ts';

export interface MemoryItem {
  kind: 'turn' | 'fact';
  sessionId?: string;
  role?: 'user' | 'assistant';
  text?: string;
  runId?: string;
  namespace?: string;
  key?: string;
  value?: string;
  trusted?: boolean;
}

export interface MemoryApi {
  /** Turns of a session (or of every session) and the actor's facts. */
  list(query: { actorId: string; sessionId?: string }): Promise<MemoryItem[]>;
  /** Forget a session's content, or everything about the actor; returns how many runs and facts were erased. */
  forget(query: { actorId: string; sessionId?: string; by?: string }): Promise<number>;
  /** The full report of a forget. */
  forgetActor(actorId: string, options?: { by?: string; sessionId?: string }): Promise<ForgetReport>;
  export(actorId: string): ReturnType<typeof exportActor>;
  /** Write a long-term fact; facts from tool output (`source: 'tool'`) are marked untrusted. */
  remember(
    actorId: string,
    fact: { namespace?: string; key: string; value: string; source?: FactRow['source']; ttlMs?: number },
  ): Promise<FactRow>;
  facts(actorId: string): Promise<FactRow[]>;
}

const need = (value: string | undefined, field: string): string => {
  if (!value || !value.trim()) throw new UserError(`${field} is required`, field);
  return value;
};

export function memoryApi(store: Store, engine: Engine, newId: (prefix: string) => string): MemoryApi {
  const compact = (): void => {
    const maybe = store as Store & { compact?: () => void };
    maybe.compact?.();
  };
  const api: MemoryApi = {
    async list({ actorId, sessionId }) {
      need(actorId, 'actorId');
      const sessions = sessionId
        ? [sessionId]
        : [...new Set((await store.runs.list({ actorId, limit: 10_000 })).map((r) => r.sessionId))];
      const items: MemoryItem[] = [];
      for (const s of sessions) {
        const ctx = await loadShortTerm(store, {
          actorId,
          sessionId: s,
          agent: '',
          runId: '',
          input: '',
          k: 1000,
          since: 0,
          now: store.now(),
          maxFacts: 0,
        });
        for (const t of ctx.turns)
          items.push({ kind: 'turn', sessionId: s, role: t.role, text: t.text, runId: t.runId });
      }
      for (const f of await store.facts.list(actorId, store.now())) {
        items.push({ kind: 'fact', namespace: f.namespace, key: f.key, value: f.value, trusted: f.trusted });
      }
      return items;
    },
    async forget({ actorId, sessionId, by }) {
      const r = await api.forgetActor(actorId, {
        ...(by ? { by } : {}),
        ...(sessionId ? { sessionId } : {}),
      });
      return r.runs + r.facts;
    },
    async forgetActor(actorId, options = {}) {
      need(actorId, 'actorId');
      const report = await forgetActor(store, actorId, {
        by: options.by ?? 'api',
        ...(options.sessionId ? { sessionId: options.sessionId } : {}),
        compact,
      });
      for (const runId of (await store.runs.list({ actorId, limit: 1_000_000 })).map((r) => r.runId))
        engine.forget(runId);
      return report;
    },
    export: (actorId) => exportActor(store, need(actorId, 'actorId')),
    async remember(actorId, f) {
      const now = store.now();
      const row: FactRow = {
        id: newId('fact'),
        actorId: need(actorId, 'actorId'),
        namespace: f.namespace ?? 'notes',
        key: need(f.key, 'key'),
        value: need(f.value, 'value'),
        source: f.source ?? 'api',
        trusted: (f.source ?? 'api') !== 'tool',
        runId: null,
        callId: null,
        createdAt: now,
        expiresAt: f.ttlMs !== undefined ? now + f.ttlMs : null,
      };
      await store.facts.put(row);
      return row;
    },
    facts: (actorId) => store.facts.list(need(actorId, 'actorId'), store.now()),
  };
  return api;
}

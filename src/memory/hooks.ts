/**
 * Memory as named lifecycle hooks: `onAgentStart` loads what the model should see of earlier
 * turns; `onMessage` sees each user and assistant message as the run adds it. The defaults read
 * the journal (short-term) and the fact store (long-term); users can wrap or replace them.
 */
import type { MemoryContextData } from '../core/events.ts';
import type { Store } from '../store/ports.ts';
import { loadShortTerm } from './short-term.ts';

export interface MemoryHookContext {
  runId: string;
  actorId: string;
  sessionId: string;
  agent: string;
  input: string;
  /** Turns to replay (per agent, default 5). */
  k: number;
}

export interface MemoryHooks {
  onAgentStart(ctx: MemoryHookContext): Promise<MemoryContextData>;
  onMessage(ctx: MemoryHookContext, message: { role: 'user' | 'assistant'; text: string }): Promise<void>;
}

/** Memory as configured (`memory` of the configuration and of createSystem); `false` turns it off. */
export type MemoryOptions =
  | false
  | { enabled?: boolean; k?: number; retentionMs?: number; maxFacts?: number; hooks?: Partial<MemoryHooks> };

export interface MemoryConfig {
  enabled: boolean;
  /** Default replay window (turns). */
  k: number;
  /** Short-term retention: turns older than this are not replayed (ms). */
  retentionMs: number;
  /** Most long-term facts injected per agent start. */
  maxFacts: number;
  hooks: MemoryHooks;
}

/**
 * An agent's effective memory settings: the system's, then the agent's own (`enabled: false` turns
 * memory off for that agent — nothing loaded, nothing persisted; `k` its replay window). The one
 * place both loading and persisting ask.
 */
export function memorySettings(
  config: Pick<MemoryConfig, 'enabled' | 'k'>,
  agent: { memory?: { enabled?: boolean; k?: number } } | undefined,
): { enabled: boolean; k: number } {
  const k = agent?.memory?.k ?? config.k;
  return { enabled: config.enabled && agent?.memory?.enabled !== false && k > 0, k };
}

/** The default hooks: journal-derived short-term memory and store facts; messages persist in the journal itself. */
export function defaultMemoryHooks(
  store: Store,
  config: { retentionMs: number; maxFacts: number },
): MemoryHooks {
  return {
    onAgentStart: (ctx) =>
      loadShortTerm(store, {
        ...ctx,
        since: store.now() - config.retentionMs,
        now: store.now(),
        maxFacts: config.maxFacts,
      }),
    // The journal already holds every message durably (run.submitted, model.responded).
    onMessage: async () => {},
  };
}

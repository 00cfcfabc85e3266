/**
 * Which agent a run goes to, decided once for the engine and for replay: the agent the caller (or
 * the delegating parent) named, else the router's choice, else the default or only agent; anything
 * else is escalated — never guessed.
 */
import type { EventPayloads } from '../events.ts';
import type { AgentRouter } from '../routing-port.ts';

/** What routing sees of a run: the submission. */
export type RouteSubject = Pick<
  EventPayloads['run.submitted'],
  'agent' | 'parentRunId' | 'lineage' | 'input'
>;

/** The routing a run would get: `route.decided` (before the version is chosen) or `route.escalated`. */
export type RouteChoice =
  | {
      kind: 'decided';
      decided: Omit<EventPayloads['route.decided'], 'version' | 'alias' | 'sticky' | 'pinned'>;
    }
  | { kind: 'escalated'; escalated: EventPayloads['route.escalated'] };

/** What routing decides with: the configured agent names, the router and the default agent. */
export interface RouteConfig {
  agentNames: readonly string[];
  router?: AgentRouter | undefined;
  defaultAgent?: string | undefined;
}

/**
 * The route of a submitted run.
 * @example
 * chooseRoute({ input: 'hi', lineage: [] }, { agentNames: ['support'] });
 * // { kind: 'decided', decided: { agent: 'support', method: 'default', … } }
 */
export function chooseRoute(sub: RouteSubject, config: RouteConfig): RouteChoice {
  if (sub.agent) {
    return {
      kind: 'decided',
      decided: {
        agent: sub.agent,
        method: sub.parentRunId ? 'delegation' : 'explicit',
        confidence: 1,
        reason: sub.parentRunId
          ? `delegated by ${sub.lineage.at(-1) ?? 'parent'}`
          : 'agent named by the caller',
        candidates: [],
      },
    };
  }
  if (config.router) {
    const d = config.router.route(sub.input);
    if (d.choice === null || !config.agentNames.includes(d.choice)) {
      return {
        kind: 'escalated',
        escalated: {
          reason: d.choice === null ? d.reason : `router chose unknown agent ${d.choice}`,
          confidence: d.confidence,
          threshold: d.threshold,
          candidates: d.candidates,
        },
      };
    }
    const { method, confidence, threshold, reason, candidates } = d;
    return {
      kind: 'decided',
      decided: { agent: d.choice, method, confidence, threshold, reason, candidates },
    };
  }
  const names = config.agentNames;
  const fallback = config.defaultAgent ?? (names.length === 1 ? names[0] : undefined);
  if (!fallback) {
    return {
      kind: 'escalated',
      escalated: {
        reason: 'no router is configured, no default agent, and the caller named no agent',
        confidence: 0,
        threshold: 1,
        candidates: [],
      },
    };
  }
  return {
    kind: 'decided',
    decided: {
      agent: fallback,
      method: 'default',
      confidence: 1,
      reason: 'the default agent',
      candidates: [],
    },
  };
}

/**
 * What the engine needs from routing: an agent router and, per agent, a tool retriever. The
 * engine depends only on these shapes; src/routing implements them (its `Router` and
 * `ToolRetriever` are these with a construction-time fit and more per-call options).
 */
import type { CandidateScoreData } from './events.ts';

/** The router's answer. `choice` is null when confidence is below the threshold: escalate, never guess. */
export interface RouteDecision {
  /** The chosen agent, or null to abstain (the run is escalated, never guessed). */
  choice: string | null;
  confidence: number;
  threshold: number;
  method: string;
  reason: string;
  /** Sorted best first; the top `maxCandidates` (all candidates when the catalog is small). */
  candidates: CandidateScoreData[];
}

/** Chooses the agent of a run from its input. */
export interface AgentRouter {
  route(query: string): RouteDecision;
}

/** Why a tool was added to a retrieval besides its own score. */
export interface ToolLinkData {
  /** The tool pulled in. Set on the retrieval's list; absent inside the expansion. */
  name?: string;
  via: 'schema' | 'reads' | 'co-usage';
  /** The candidate that pulled it in. */
  from: string;
  /** For `schema`: the required argument of `from` the request does not supply; for `reads`: the one both take. */
  argument?: string;
  /** The linked score that ranked it (its own fused score was lower). */
  score?: number;
}

/** What the tool retriever showed the model, and why (journaled in `tools.retrieved`). */
export interface ToolRetrieval {
  /** Tool names shown to the model: pinned first, then retrieved ones above the threshold. */
  shown: string[];
  /** Permitted candidates with their scores, best first. Non-permitted tools never appear. */
  candidates: CandidateScoreData[];
  /** How many tools the agent is permitted to call. */
  totalAvailable: number;
  threshold: number;
  /** True when no unpinned candidate reached the threshold: the request needs none of the tools. */
  abstained?: boolean;
  /**
   * Candidates ranked higher because another candidate needs what they produce (`schema`), because
   * they read the entity a changing candidate changes (`reads`), or because they are usually called
   * with it (`co-usage`): why a tool the request never named is there.
   */
  linked?: ToolLinkData[];
}

/** Narrows an agent's tools to those a conversation needs. */
export interface ToolRetriever {
  retrieve(
    conversation: string,
    options: { permitted: ReadonlySet<string>; topK?: number; pinned?: readonly string[] },
  ): ToolRetrieval;
}

/** @deprecated Use {@link RouteDecision}. */
export type RouteDecisionLike = RouteDecision;
/** @deprecated Use {@link ToolRetriever}. */
export type ToolRetrieverLike = ToolRetriever;

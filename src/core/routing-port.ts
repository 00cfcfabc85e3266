/**
 * What the engine needs from routing: an agent router and, per agent, a tool retriever. The
 * implementations live in src/routing; the engine depends only on these shapes.
 */
import type { CandidateScoreData } from './events.ts';

export interface RouteDecisionLike {
  /** The chosen agent, or null to abstain (the run is escalated, never guessed). */
  choice: string | null;
  confidence: number;
  threshold: number;
  method: string;
  reason: string;
  candidates: CandidateScoreData[];
}

export interface AgentRouter {
  route(query: string): RouteDecisionLike;
}

export interface ToolRetrievalLike {
  shown: string[];
  candidates: CandidateScoreData[];
  totalAvailable: number;
  threshold: number;
  abstained?: boolean;
  /** Tools added by schema links or co-usage priors, with why (journaled in `tools.retrieved`). */
  linked?: { name?: string; via: 'schema' | 'co-usage'; from: string; argument?: string; score?: number }[];
}

export interface ToolRetrieverLike {
  retrieve(
    conversation: string,
    options: { permitted: ReadonlySet<string>; topK?: number; pinned?: readonly string[] },
  ): ToolRetrievalLike;
}

/**
 * Public types of the routing layer: targets, per-signal scores, decisions. The decision and
 * retrieval shapes are the engine's port (core/routing-port.ts), refined here, not repeated.
 */
import type { CandidateScoreData } from '../core/events.ts';
import type {
  RouteDecision,
  ToolRetrieval as PortToolRetrieval,
  ToolRetriever as PortToolRetriever,
} from '../core/routing-port.ts';

export type { RouteDecision, ToolLinkData } from '../core/routing-port.ts';

/** Something a request can be routed to: an agent, or a tool an agent may see. */
export interface RoutingTarget {
  name: string;
  description: string;
  /** Example requests this target handles; the classifier trains on them. */
  examples?: string[];
  /** JSON Schema of the target's input; parameter names and descriptions are indexed. */
  parameters?: unknown;
  /** JSON Schema (or a description) of what the target returns: names the identifiers it produces. */
  output?: unknown;
}

/** One candidate's scores: each signal (e.g. `lexical`, `classifier`, `embedding`) and the fusion. */
export type CandidateScore = CandidateScoreData;

/** Routes a request to one target. Fitted at construction; `route` is synchronous and pure. */
export interface Router {
  route(query: string, options?: RouteOptions): RouteDecision;
  /** Milliseconds the construction-time fit took. */
  readonly fitMs: number;
}

/** Per-call options of {@link Router.route}. */
export interface RouteOptions {
  /** Precomputed query embedding, when the router was given target embeddings. */
  queryEmbedding?: Float32Array | readonly number[];
  /** Candidate filter: only these target names are considered (rules, metadata, permissions). */
  allowed?: ReadonlySet<string>;
}

/** What the tool retriever showed the model, and why: the port's retrieval, `abstained` always set. */
export interface ToolRetrieval extends PortToolRetrieval {
  abstained: boolean;
}

/** Per-call options of {@link ToolRetriever.retrieve}. */
export interface RetrieveOptions {
  permitted: ReadonlySet<string>;
  topK?: number;
  pinned?: readonly string[];
  queryEmbedding?: Float32Array | readonly number[];
}

/** Narrows an agent's tools to those a conversation needs: the port's retriever, fitted. */
export interface ToolRetriever extends PortToolRetriever {
  retrieve(conversation: string, options: RetrieveOptions): ToolRetrieval;
  readonly fitMs: number;
}

/** Public types of the routing layer: targets, per-signal scores, decisions. */

/** Something a request can be routed to: an agent, or a tool an agent may see. */
export interface RoutingTarget {
  name: string;
  description: string;
  /** Example requests this target handles; the classifier trains on them. */
  examples?: string[];
  /** JSON Schema of the target's input; parameter names and descriptions are indexed. */
  parameters?: unknown;
}

/** One candidate's scores: each signal (e.g. `lexical`, `classifier`, `embedding`) and the fusion. */
export interface CandidateScore {
  name: string;
  scores: Record<string, number>;
  fused: number;
}

/** The router's answer. `choice` is null when confidence is below the threshold: escalate, never guess. */
export interface RouteDecision {
  choice: string | null;
  confidence: number;
  threshold: number;
  method: string;
  reason: string;
  /** Sorted best first; the top `maxCandidates` (all candidates when the catalog is small). */
  candidates: CandidateScore[];
}

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

/** What the tool retriever showed the model, and why. */
export interface ToolRetrieval {
  /** Tool names shown to the model: pinned first, then retrieved ones above the threshold. */
  shown: string[];
  /** Permitted candidates with their scores, best first. Non-permitted tools never appear. */
  candidates: CandidateScore[];
  /** How many tools the agent is permitted to call. */
  totalAvailable: number;
  threshold: number;
  /** True when no unpinned candidate reached the threshold: the request needs none of the tools. */
  abstained: boolean;
}

/** Per-call options of {@link ToolRetriever.retrieve}. */
export interface RetrieveOptions {
  permitted: ReadonlySet<string>;
  topK?: number;
  pinned?: readonly string[];
  queryEmbedding?: Float32Array | readonly number[];
}

/** Narrows an agent's tools to those a conversation needs. */
export interface ToolRetriever {
  retrieve(conversation: string, options: RetrieveOptions): ToolRetrieval;
  readonly fitMs: number;
}

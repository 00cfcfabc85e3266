/** Public types of the routing layer: targets, per-signal scores, decisions. */

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
  /**
   * Candidates ranked higher because another candidate needs what they produce (`schema`) or
   * because they are usually called with it (`co-usage`): why a tool the request never named is there.
   */
  linked?: ToolLinkData[];
}

/** Why a tool was added to a retrieval besides its own score. */
export interface ToolLinkData {
  /** The tool pulled in. Set on the retrieval's list; absent inside the expansion. */
  name?: string;
  via: 'schema' | 'co-usage';
  /** The candidate that pulled it in. */
  from: string;
  /** For `schema`: the required argument of `from` the request does not supply. */
  argument?: string;
  /** The linked score that ranked it (its own fused score was lower). */
  score?: number;
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

/** Routing: the agent router, the tool retriever, their evaluation, and the embedding port. */
export type {
  CandidateScore,
  RetrieveOptions,
  RouteDecision,
  RouteOptions,
  Router,
  RoutingTarget,
  ToolRetrieval,
  ToolLinkData,
  ToolRetriever,
} from './types.ts';
export { completedRunTools, DEFAULT_LINKS, learnCoUsage } from './links.ts';
export type { CoUsagePriors, LinkOptions } from './links.ts';
export {
  createRouter,
  createToolRetriever,
  DEFAULT_MIN_SHOWN,
  DEFAULT_RELATIVE_FLOOR,
  DEFAULT_THRESHOLDS,
} from './router.ts';
export type { RetrieverOptions, RouterOptions } from './router.ts';
export type { FusionWeights, ScoringOptions } from './scoring.ts';
export { agentTarget, toolTarget } from './targets.ts';
export {
  createEmbeddedRouter,
  createEmbeddedToolRetriever,
  embeddingText,
  openAIEmbeddings,
} from './embedding.ts';
export type {
  EmbeddedRouter,
  EmbeddedToolRetriever,
  EmbeddingPort,
  OpenAIEmbeddingsConfig,
} from './embedding.ts';
export { evaluateSuite, suiteSchema } from './suite.ts';
export type { EvalDetails, EvalResult, Suite } from './suite.ts';

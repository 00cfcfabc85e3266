/** The agent router and the tool retriever, both thin policies over the shared scoring engine. */
import { fitEngine, type ScoringOptions } from './scoring.ts';
import { formatPair } from './format.ts';
import { DEFAULT_LINKS, expandLinks, fitSchemaLinks, type CoUsagePriors, type LinkOptions } from './links.ts';
import type {
  CandidateScore,
  RetrieveOptions,
  RouteDecision,
  RouteOptions,
  Router,
  RoutingTarget,
  ToolRetrieval,
  ToolRetriever,
} from './types.ts';

/** Confidence thresholds: below them the router escalates and the retriever shows no tools. */
export const DEFAULT_THRESHOLDS = {
  /** Catalogs with example requests: a fitted classifier makes confidence sharper. */
  supervised: 0.5,
  /** Catalogs with descriptions only (confidence is query coverage). */
  unsupervised: 0.18,
} as const;

/** Router options; every field has a production default. */
export interface RouterOptions extends ScoringOptions {
  /** Override the confidence threshold below which the router abstains. */
  threshold?: number;
}

/** Default {@link RetrieverOptions.relativeFloor}. */
export const DEFAULT_RELATIVE_FLOOR = 0.2;
/** Default {@link RetrieverOptions.minShown}. */
export const DEFAULT_MIN_SHOWN = 2;

/** Retriever options; every field has a production default. */
export interface RetrieverOptions extends ScoringOptions {
  threshold?: number;
  /** Tools shown besides pinned ones when the call does not say (default 5). */
  topK?: number;
  /**
   * Schema links and co-usage expansion; `false` turns both off (the tools' own scores only).
   * Defaults: {@link DEFAULT_LINKS}.
   */
  links?: Partial<LinkOptions> | false;
  /**
   * A candidate is shown only when its fused score is at least this share of the best one's: a
   * clear winner is shown alone instead of with four tools the request does not need (each shown
   * tool costs its definition's tokens on every model call). 0 shows the full top k.
   */
  relativeFloor?: number;
  /**
   * Unpinned tools shown regardless of the floor (when the threshold is met): a model choosing
   * between tools reads them against each other, and a second candidate is cheap insurance.
   */
  minShown?: number;
  /**
   * Co-usage priors learned from completed runs ({@link learnCoUsage}); none by default. A function
   * is asked at every retrieval (priors a system keeps learning from its journal).
   */
  coUsage?: CoUsagePriors | (() => CoUsagePriors | undefined);
}

const fmt = (x: number): string => x.toFixed(2);

function describe(scores: Record<string, number>): string {
  return Object.entries(scores)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
}

/**
 * Create an agent router over `targets`, fitted now (synchronously).
 * @example
 * const router = createRouter(agents.map(agentTarget));
 * const d = router.route('I was charged twice');
 * if (d.choice === null) escalate(d.reason);
 */
export function createRouter(targets: RoutingTarget[], options: RouterOptions = {}): Router {
  const engine = fitEngine(targets, options);
  const threshold =
    options.threshold ??
    (engine.supervised ? DEFAULT_THRESHOLDS.supervised : DEFAULT_THRESHOLDS.unsupervised);
  return {
    fitMs: engine.fitMs,
    route(query: string, routeOptions: RouteOptions = {}): RouteDecision {
      const scored = engine.score(query, {
        ...(routeOptions.allowed ? { allowed: routeOptions.allowed } : {}),
        ...(routeOptions.queryEmbedding ? { queryEmbedding: routeOptions.queryEmbedding } : {}),
      });
      const method = `fusion(${scored.signals.join('+')})`;
      const best = scored.candidates[0];
      if (!best) {
        return {
          choice: null,
          confidence: 0,
          threshold,
          method,
          reason: 'no candidate agents',
          candidates: [],
        };
      }
      // The confidence and the threshold are printed so that their comparison reads true.
      const [shownConfidence, shownThreshold] = formatPair(scored.confidence, threshold);
      if (scored.confidence < threshold) {
        return {
          choice: null,
          confidence: scored.confidence,
          threshold,
          method,
          reason:
            `escalated: confidence ${shownConfidence} is below the threshold ${shownThreshold}; ` +
            `best candidate ${best.name} (${describe(best.scores)})`,
          candidates: scored.candidates,
        };
      }
      const runnerUp = scored.candidates[1];
      return {
        choice: best.name,
        confidence: scored.confidence,
        threshold,
        method,
        reason:
          `${best.name}: confidence ${shownConfidence} ≥ threshold ${shownThreshold} (${describe(best.scores)})` +
          (runnerUp
            ? `; next ${runnerUp.name} fused ${formatPair(runnerUp.fused, best.fused).join(' vs ')}`
            : ''),
        candidates: scored.candidates,
      };
    },
  };
}

/**
 * Create a tool retriever over an agent's tools. Permission filtering happens before scoring:
 * tools outside `permitted` are never scored, normalised against, or listed.
 * @example
 * const retriever = createToolRetriever(agent.tools.map(toolTarget));
 * const { shown } = retriever.retrieve(conversation, { permitted, topK: 5, pinned: ['lookup_order'] });
 */
export function createToolRetriever(tools: RoutingTarget[], options: RetrieverOptions = {}): ToolRetriever {
  const engine = fitEngine(tools, options);
  const threshold =
    options.threshold ??
    (engine.supervised ? DEFAULT_THRESHOLDS.supervised : DEFAULT_THRESHOLDS.unsupervised);
  const defaultTopK = options.topK ?? 5;
  const known = new Set(engine.names);
  const linksStarted = performance.now();
  const link = linker(tools, engine.names, options);
  // Fit time is the whole retriever's: the scoring engine and the schema links.
  const fitMs = engine.fitMs + (performance.now() - linksStarted);
  const relativeFloor = options.relativeFloor ?? DEFAULT_RELATIVE_FLOOR;
  const minShown = options.minShown ?? DEFAULT_MIN_SHOWN;
  return {
    fitMs,
    retrieve(conversation: string, retrieveOptions: RetrieveOptions): ToolRetrieval {
      const permitted = retrieveOptions.permitted;
      const topK = retrieveOptions.topK ?? defaultTopK;
      const limit = Math.max(topK, options.maxCandidates ?? 10);
      const scored = engine.score(conversation, {
        allowed: permitted,
        limit,
        ...(retrieveOptions.queryEmbedding ? { queryEmbedding: retrieveOptions.queryEmbedding } : {}),
      });
      const { candidates, linked } = link(
        scored.candidates,
        (i) => scored.scoreOf(i),
        conversation,
        permitted,
      );
      const pinned = (retrieveOptions.pinned ?? []).filter((p) => permitted.has(p) && known.has(p));
      const shown = [...new Set(pinned)];
      const abstained = scored.confidence < threshold;
      if (!abstained) {
        let added = 0;
        const floor = (candidates[0]?.fused ?? 0) * relativeFloor;
        for (const c of candidates) {
          if (added >= topK || (c.fused < floor && added >= minShown)) break;
          if (shown.includes(c.name)) continue;
          shown.push(c.name);
          added++;
        }
      }
      let totalAvailable = 0;
      for (const name of engine.names) if (permitted.has(name)) totalAvailable++;
      return {
        shown,
        candidates,
        totalAvailable,
        threshold,
        abstained,
        ...(linked.length > 0 ? { linked } : {}),
      };
    },
  };
}

type Linked = NonNullable<ToolRetrieval['linked']>;

/**
 * Re-rank a retrieval's candidates with schema links and co-usage priors: a linked tool's score is
 * the better of its own and its link's; the list keeps its length (the weakest fall off).
 */
function linker(tools: RoutingTarget[], names: readonly string[], options: RetrieverOptions) {
  const settings = options.links === false ? null : { ...DEFAULT_LINKS, ...options.links };
  const schema = settings ? fitSchemaLinks(tools) : null;
  const indexOf = new Map(names.map((n, i) => [n, i]));
  return (
    candidates: CandidateScore[],
    scoreOf: (index: number) => CandidateScore | undefined,
    query: string,
    permitted: ReadonlySet<string>,
  ): { candidates: CandidateScore[]; linked: Linked } => {
    if (!settings || !schema || candidates.length === 0) return { candidates, linked: [] };
    const seeds = candidates.map((c) => ({ index: indexOf.get(c.name) ?? -1, fused: c.fused }));
    const links = expandLinks(
      seeds,
      query,
      schema,
      names,
      (i) => permitted.has(names[i] as string),
      typeof options.coUsage === 'function' ? options.coUsage() : options.coUsage,
      settings,
    );
    if (links.size === 0) return { candidates, linked: [] };
    const byName = new Map(candidates.map((c) => [c.name, c]));
    const linked: Linked = [];
    for (const [index, l] of links) {
      const own = byName.get(names[index] as string) ?? scoreOf(index);
      if (!own || l.score <= own.fused) continue;
      byName.set(own.name, { ...own, scores: { ...own.scores, linked: l.score }, fused: l.score });
      const { score, ...why } = l;
      linked.push({ name: own.name, ...why, score });
    }
    const ranked = [...byName.values()]
      .sort((a, b) => b.fused - a.fused || (a.name < b.name ? -1 : 1))
      .slice(0, candidates.length);
    const kept = new Set(ranked.map((c) => c.name));
    return { candidates: ranked, linked: linked.filter((l) => kept.has(l.name ?? '')) };
  };
}

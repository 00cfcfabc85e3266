/**
 * The scoring pipeline shared by the agent router and the tool retriever:
 * candidate filter → scorers (lexical BM25F, fitted classifier, nearest example, optional
 * embeddings) → weighted fusion → confidence. Fitted once, synchronous and pure afterwards.
 */
import {
  DEFAULT_CLASSIFIER,
  fitClassifier,
  fitFeaturizer,
  type Classifier,
  type ClassifierOptions,
} from './classifier.ts';
import { targetFields } from './fields.ts';
import {
  createLexicalIndex,
  DEFAULT_LEXICAL,
  DEFAULT_UNSUPERVISED_LEXICAL,
  type LexicalOptions,
} from './lexical.ts';
import { createNeighborIndex } from './neighbors.ts';
import type { CandidateScore, RoutingTarget } from './types.ts';

/** Fusion weights per signal; missing signals drop out and the rest are renormalised. */
export interface FusionWeights {
  lexical: number;
  classifier: number;
  neighbors: number;
  embedding: number;
}

/** Options shared by the router and the retriever. Every field has a production default. */
export interface ScoringOptions {
  lexical?: LexicalOptions;
  classifier?: ClassifierOptions;
  /** Weights when the catalog has example requests (a classifier is fitted). */
  supervisedWeights?: FusionWeights;
  /** Weights when it has none (descriptions and parameters only). */
  unsupervisedWeights?: FusionWeights;
  /** Confidence weights (the lexical weight applies to query coverage) with examples / without. */
  supervisedConfidence?: FusionWeights;
  unsupervisedConfidence?: FusionWeights;
  /**
   * Without examples the confidence is the best absolute score of any allowed target (not only of
   * the best-ranked one) raised to this power: coverage ranks "no tool applies" well, and the power
   * places that ranking's 5% false-abstention point at the default threshold.
   */
  unsupervisedConfidenceExponent?: number;
  /** Fit the classifier when there are at least this many examples per target on average. */
  minExamplesPerTarget?: number;
  /** One embedding per target (same order), enabling the `embedding` signal. */
  targetEmbeddings?: readonly (Float32Array | readonly number[])[];
  /** How many candidates a decision records (best first). */
  maxCandidates?: number;
  /**
   * Only the last this many characters of a query are scored (a long conversation's latest turns
   * carry the request); bounds the cost of one decision.
   */
  maxQueryChars?: number;
}

export const DEFAULT_SUPERVISED_WEIGHTS: FusionWeights = {
  lexical: 0.2,
  classifier: 0.5,
  neighbors: 0.3,
  embedding: 0.4,
};
export const DEFAULT_UNSUPERVISED_WEIGHTS: FusionWeights = {
  lexical: 0.3,
  classifier: 0,
  neighbors: 0.7,
  embedding: 0.5,
};
/**
 * Confidence mixes absolute signals only. Without examples, query coverage (the IDF-weighted share
 * of the request's terms that a tool's text contains) separates "no tool applies" from in-scope
 * requests far better than similarity, so it carries the confidence alone.
 */
export const DEFAULT_SUPERVISED_CONFIDENCE: FusionWeights = DEFAULT_SUPERVISED_WEIGHTS;
export const DEFAULT_UNSUPERVISED_CONFIDENCE: FusionWeights = {
  lexical: 1,
  classifier: 0,
  neighbors: 0,
  embedding: 0.5,
};
/**
 * Chosen on the even-indexed cases of BFCL live-multiple / live-irrelevance: the default
 * description-only threshold (0.18) then abstains on at most 5% of in-scope requests.
 */
export const DEFAULT_UNSUPERVISED_CONFIDENCE_EXPONENT = 0.78;
export const DEFAULT_MAX_CANDIDATES = 10;
export const DEFAULT_MAX_QUERY_CHARS = 1000;

/** The outcome of scoring one query. */
export interface Scored {
  /** Allowed candidates, best first, truncated to `maxCandidates`. */
  candidates: CandidateScore[];
  /** Confidence that the best candidate applies at all, in [0, 1]. */
  confidence: number;
  /** Names of the signals that took part. */
  signals: string[];
  /** Any allowed target's scores (not only the reported ones), e.g. for a linked tool; else undefined. */
  scoreOf(index: number): CandidateScore | undefined;
}

/** A fitted scoring pipeline over a fixed catalog. */
export interface Engine {
  readonly names: readonly string[];
  readonly supervised: boolean;
  readonly fitMs: number;
  score(
    query: string,
    options?: {
      allowed?: ReadonlySet<string>;
      queryEmbedding?: Float32Array | readonly number[];
      limit?: number;
    },
  ): Scored;
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * Positions (into `ids`) of the `limit` best fused scores, best first; ties break by name. A bounded
 * insertion list: linear in the catalog for the small limits decisions use.
 */
function topIndices(
  fused: Float64Array,
  ids: readonly number[],
  names: readonly string[],
  limit: number,
): number[] {
  const top: number[] = [];
  if (limit <= 0) return top;
  const better = (a: number, b: number): boolean => {
    const d = (fused[a] as number) - (fused[b] as number);
    if (d !== 0) return d > 0;
    return (names[ids[a] as number] as string) < (names[ids[b] as number] as string);
  };
  for (let k = 0; k < fused.length; k++) {
    if (top.length === limit && !better(k, top[limit - 1] as number)) continue;
    let at = top.length === limit ? limit - 1 : top.length;
    while (at > 0 && better(k, top[at - 1] as number)) {
      top[at] = top[at - 1] as number;
      at--;
    }
    top[at] = k;
  }
  return top;
}

/**
 * The confidence from the allowed candidates' absolute scores. With examples, the best-ranked one's.
 * Without, the best of any allowed target's, raised to the calibration exponent: it asks whether any
 * tool's text covers the request (near-duplicate tools share the ranking, and the one covering most
 * of the request need not be ranked first).
 */
function confidenceOf(
  absolute: Float64Array,
  best: number | undefined,
  supervised: boolean,
  options: ScoringOptions,
): number {
  if (best === undefined) return 0;
  if (supervised) return absolute[best] as number;
  let max = 0;
  for (const x of absolute) if (x > max) max = x;
  return max ** (options.unsupervisedConfidenceExponent ?? DEFAULT_UNSUPERVISED_CONFIDENCE_EXPONENT);
}

/** BM25F options: given ones, else the defaults for catalogs with examples or without. */
function lexicalOptions(options: ScoringOptions, supervised: boolean): LexicalOptions {
  return options.lexical ?? (supervised ? DEFAULT_LEXICAL : DEFAULT_UNSUPERVISED_LEXICAL);
}

function cosine(a: Float32Array | readonly number[], b: Float32Array | readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * Fit the pipeline on a catalog. `clock` measures fit time (defaults to `performance.now`).
 */
export function fitEngine(targets: readonly RoutingTarget[], options: ScoringOptions = {}): Engine {
  const started = performance.now();
  const names = targets.map((t) => t.name);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new TypeError(`duplicate routing target "${n}"`);
    seen.add(n);
  }
  const fields = targets.map(targetFields);
  const docs: { text: string; label: number }[] = [];
  let exampleCount = 0;
  fields.forEach((f, i) => {
    docs.push({ text: `${f.name} . ${f.description} . ${f.parameters}`, label: i });
    for (const e of f.examples) {
      docs.push({ text: e, label: i });
      exampleCount++;
    }
  });
  const supervised =
    targets.length >= 2 && exampleCount >= (options.minExamplesPerTarget ?? 2) * targets.length;
  const lexical = createLexicalIndex(fields, lexicalOptions(options, supervised));
  const clfOptions = options.classifier ?? { ...DEFAULT_CLASSIFIER, dropStopwords: !supervised };
  const fitted = fitFeaturizer(
    docs.map((d) => d.text),
    clfOptions,
  );
  const classifier: Classifier | null = supervised
    ? fitClassifier(docs, targets.length, clfOptions, fitted)
    : null;
  const neighbors = createNeighborIndex(
    fitted.featurizer,
    fitted.vectors,
    docs.map((d) => d.label),
    targets.length,
  );
  const weights = supervised
    ? (options.supervisedWeights ?? DEFAULT_SUPERVISED_WEIGHTS)
    : (options.unsupervisedWeights ?? DEFAULT_UNSUPERVISED_WEIGHTS);
  const confidenceWeights = supervised
    ? (options.supervisedConfidence ?? DEFAULT_SUPERVISED_CONFIDENCE)
    : (options.unsupervisedConfidence ?? DEFAULT_UNSUPERVISED_CONFIDENCE);
  const embeddings = options.targetEmbeddings;
  if (embeddings && embeddings.length !== targets.length) {
    throw new TypeError(`targetEmbeddings has ${embeddings.length} entries for ${targets.length} targets`);
  }
  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  const maxQueryChars = options.maxQueryChars ?? DEFAULT_MAX_QUERY_CHARS;
  const fitMs = performance.now() - started;

  return {
    names,
    supervised,
    fitMs,
    score(fullQuery, scoreOptions = {}) {
      const query = fullQuery.length > maxQueryChars ? fullQuery.slice(-maxQueryChars) : fullQuery;
      const allowed = scoreOptions.allowed;
      const ids: number[] = [];
      for (let i = 0; i < names.length; i++) if (!allowed || allowed.has(names[i] as string)) ids.push(i);
      const lex = lexical.score(query);
      // One featurisation serves both the nearest-example scorer and the classifier.
      const vector = fitted.featurizer.vectorize(query);
      const nn = neighbors.scoreVector(vector);
      const prob = classifier ? classifier.predictVector(vector) : null;
      const emb =
        embeddings && scoreOptions.queryEmbedding
          ? ids.map((i) => cosine(embeddings[i] as Float32Array, scoreOptions.queryEmbedding as Float32Array))
          : null;
      // Normalise over the allowed candidates only: filtered targets must not shape the scores.
      let maxLex = 0;
      let probSum = 0;
      for (const i of ids) {
        maxLex = Math.max(maxLex, lex.scores[i] as number);
        if (prob) probSum += prob[i] as number;
      }
      const w = {
        lexical: weights.lexical,
        classifier: prob ? weights.classifier : 0,
        neighbors: weights.neighbors,
        embedding: emb ? weights.embedding : 0,
      };
      const total = w.lexical + w.classifier + w.neighbors + w.embedding || 1;
      const cw = {
        lexical: confidenceWeights.lexical,
        classifier: prob ? confidenceWeights.classifier : 0,
        neighbors: confidenceWeights.neighbors,
        embedding: emb ? confidenceWeights.embedding : 0,
      };
      const cTotal = cw.lexical + cw.classifier + cw.neighbors + cw.embedding || 1;
      const signals = [
        'lexical',
        'neighbors',
        ...(prob ? ['classifier'] : []),
        ...(emb ? ['embedding'] : []),
      ];
      // Fused and absolute scores for every allowed candidate in flat arrays; per-signal records are
      // built only for the candidates a decision reports (a 500-tool catalog lists 10).
      const m = ids.length;
      const fused = new Float64Array(m);
      const absolute = new Float64Array(m);
      for (let k = 0; k < m; k++) {
        const i = ids[k] as number;
        const lexical = maxLex > 0 ? (lex.scores[i] as number) / maxLex : 0;
        const classifierScore = prob && probSum > 0 ? (prob[i] as number) / probSum : 0;
        const embeddingScore = emb ? Math.max(0, emb[k] as number) : 0;
        const neighbor = nn[i] as number;
        fused[k] =
          (w.lexical * lexical +
            w.classifier * classifierScore +
            w.neighbors * neighbor +
            w.embedding * embeddingScore) /
          total;
        // Confidence uses absolute signals only: relative lexical score is 1 for any best match.
        absolute[k] =
          (cw.lexical * (lex.coverage[i] as number) +
            cw.classifier * classifierScore +
            cw.neighbors * neighbor +
            cw.embedding * embeddingScore) /
          cTotal;
      }
      const limit = scoreOptions.limit ?? maxCandidates;
      const top = topIndices(fused, ids, names, Math.max(1, limit));
      const best = top[0];
      const record = (k: number): CandidateScore => {
        const i = ids[k] as number;
        const s: Record<string, number> = {
          lexical: round(maxLex > 0 ? (lex.scores[i] as number) / maxLex : 0),
          coverage: round(lex.coverage[i] as number),
          neighbors: round(nn[i] as number),
        };
        if (prob) s.classifier = round(probSum > 0 ? (prob[i] as number) / probSum : 0);
        if (emb) s.embedding = round(Math.max(0, emb[k] as number));
        return { name: names[i] as string, scores: s, fused: round(fused[k] as number) };
      };
      const candidates = top.slice(0, limit).map(record);
      let positions: Map<number, number> | null = null;
      return {
        candidates,
        scoreOf(index) {
          positions ??= new Map(ids.map((i, k) => [i, k]));
          const k = positions.get(index);
          return k === undefined ? undefined : record(k);
        },
        confidence: round(confidenceOf(absolute, best, supervised, options)),
        signals,
      };
    },
  };
}

/**
 * BM25F lexical scorer: per-field length-normalised term frequencies, weighted and summed before
 * saturation (Robertson & Zaragoza, "The Probabilistic Relevance Framework"), with postings
 * precomputed at construction so a query costs one pass over its terms' posting lists.
 */
import { terms } from './text.ts';
import type { TargetFields } from './fields.ts';

/** Field weights and BM25 parameters. */
export interface LexicalOptions {
  k1: number;
  weights: { name: number; description: number; parameters: number; examples: number };
  b: { name: number; description: number; parameters: number; examples: number };
}

export const DEFAULT_LEXICAL: LexicalOptions = {
  k1: 1.2,
  weights: { name: 3, description: 2, parameters: 1, examples: 1 },
  b: { name: 0.3, description: 0.75, parameters: 0.75, examples: 0.75 },
};

type FieldName = keyof LexicalOptions['weights'];
const FIELDS: FieldName[] = ['name', 'description', 'parameters', 'examples'];

/** Per-target lexical scores for a query, plus how much of the query each target covers. */
export interface LexicalResult {
  /** BM25F score per target index. */
  scores: Float64Array;
  /** IDF-weighted fraction of the query's terms found in each target, in [0, 1]. */
  coverage: Float64Array;
  /** How many distinct query terms there were. */
  queryTerms: number;
}

/** A fitted BM25F index over a fixed list of targets. */
export interface LexicalIndex {
  score(query: string): LexicalResult;
  /** Distinct terms of one target (used for duplicate detection and explanations). */
  readonly size: number;
}

/** Build a BM25F index. */
export function createLexicalIndex(
  targets: readonly TargetFields[],
  options: LexicalOptions = DEFAULT_LEXICAL,
): LexicalIndex {
  const n = targets.length;
  const fieldTerms = targets.map((t) => ({
    name: terms(t.name),
    description: terms(t.description),
    parameters: terms(t.parameters),
    examples: terms(t.examples.join(' . ')),
  }));
  const avg: Record<FieldName, number> = { name: 0, description: 0, parameters: 0, examples: 0 };
  for (const f of FIELDS) {
    let sum = 0;
    for (const t of fieldTerms) sum += t[f].length;
    avg[f] = Math.max(1, sum / Math.max(1, n));
  }
  const df = new Map<string, number>();
  const pseudoTf: Map<string, number>[] = [];
  for (const t of fieldTerms) {
    const tf = new Map<string, number>();
    for (const f of FIELDS) {
      const list = t[f];
      if (list.length === 0) continue;
      const norm = 1 - options.b[f] + (options.b[f] * list.length) / avg[f];
      const w = options.weights[f] / norm;
      for (const term of list) tf.set(term, (tf.get(term) ?? 0) + w);
    }
    for (const term of tf.keys()) df.set(term, (df.get(term) ?? 0) + 1);
    pseudoTf.push(tf);
  }
  const idfOf = (d: number): number => Math.log(1 + (n - d + 0.5) / (d + 0.5));
  const unseenIdf = idfOf(0);
  const postings = new Map<string, { idf: number; docs: Int32Array; weights: Float64Array }>();
  const tmp = new Map<string, { docs: number[]; weights: number[] }>();
  pseudoTf.forEach((tf, doc) => {
    for (const [term, value] of tf) {
      let p = tmp.get(term);
      if (!p) tmp.set(term, (p = { docs: [], weights: [] }));
      p.docs.push(doc);
      p.weights.push((value * (options.k1 + 1)) / (value + options.k1));
    }
  });
  for (const [term, p] of tmp) {
    postings.set(term, {
      idf: idfOf(df.get(term) ?? 0),
      docs: Int32Array.from(p.docs),
      weights: Float64Array.from(p.weights),
    });
  }

  return {
    size: n,
    score(query: string): LexicalResult {
      const scores = new Float64Array(n);
      const covered = new Float64Array(n);
      const unique = new Set(terms(query));
      let total = 0;
      for (const term of unique) {
        const p = postings.get(term);
        const idf = p ? p.idf : unseenIdf;
        total += idf;
        if (!p) continue;
        for (let i = 0; i < p.docs.length; i++) {
          const doc = p.docs[i] as number;
          scores[doc] = (scores[doc] ?? 0) + idf * (p.weights[i] as number);
          covered[doc] = (covered[doc] ?? 0) + idf;
        }
      }
      if (total > 0) for (let i = 0; i < n; i++) covered[i] = (covered[i] ?? 0) / total;
      return { scores, coverage: covered, queryTerms: unique.size };
    },
  };
}

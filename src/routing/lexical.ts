/**
 * BM25F lexical scorer: per-field length-normalised term frequencies, weighted and summed before
 * saturation (Robertson & Zaragoza, "The Probabilistic Relevance Framework"), with postings
 * precomputed at construction so a query costs one pass over its terms' posting lists.
 */
import { stem, terms, words } from './text.ts';
import type { TargetFields } from './fields.ts';

/** Field weights and BM25 parameters. */
export interface LexicalOptions {
  k1: number;
  weights: { name: number; description: number; parameters: number; examples: number };
  b: { name: number; description: number; parameters: number; examples: number };
  /**
   * How query terms that no target contains count in {@link LexicalResult.coverage} (scores are
   * unaffected); omitted, every term counts by its IDF.
   */
  unseen?: UnseenTerms;
}

/** Weights, relative to its IDF, of a query term found in no target, by the kind of word it is. */
export interface UnseenTerms {
  /** An ordinary word: a request about something none of the targets does. */
  word: number;
  /**
   * A capitalised word inside a sentence (`Paris`, `Kathy`): a name, an argument value rather than
   * what the request asks for.
   */
  value: number;
  /**
   * A word sharing its first `prefixLength` letters with a catalog term (`housekeeper` / `house`,
   * `tunes` / `tune…`): probably a morphological variant of a word the catalog uses.
   */
  variant: number;
  prefixLength: number;
}

export const DEFAULT_LEXICAL: LexicalOptions = {
  k1: 1.2,
  weights: { name: 3, description: 2, parameters: 1, examples: 1 },
  b: { name: 0.3, description: 0.75, parameters: 0.75, examples: 0.75 },
};

/**
 * Description-only catalogs: coverage is their confidence, so a request word the catalog never uses
 * counts 2.5 times its IDF, a name counts nothing and a variant of a catalog word half. Chosen on
 * the even-indexed cases of BFCL live-multiple and live-irrelevance; rankings are unchanged.
 */
export const DEFAULT_UNSUPERVISED_LEXICAL: LexicalOptions = {
  ...DEFAULT_LEXICAL,
  unseen: { word: 2.5, value: 0, variant: 0.5, prefixLength: 4 },
};

/** Stems of the capitalised words that do not start a sentence (names, argument values). */
function valueTerms(query: string): Set<string> {
  const out = new Set<string>();
  for (const m of query.matchAll(VALUE_WORD)) for (const w of words(m[0])) out.add(stem(w));
  return out;
}
const VALUE_WORD = /(?<![.!?\n]\s*|^\s*)\b[A-Z][A-Za-z0-9]*/g;

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
  const unseen = options.unseen;
  const prefixes = new Set<string>();
  if (unseen) {
    for (const term of df.keys()) {
      if (term.length >= unseen.prefixLength) prefixes.add(term.slice(0, unseen.prefixLength));
    }
  }
  /** The coverage weight of a query term no target contains. */
  const unseenWeight = (term: string, values: () => Set<string>): number => {
    if (!unseen) return unseenIdf;
    if (values().has(term)) return unseen.value * unseenIdf;
    if (term.length >= unseen.prefixLength && prefixes.has(term.slice(0, unseen.prefixLength))) {
      return unseen.variant * unseenIdf;
    }
    return unseen.word * unseenIdf;
  };
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
      let values: Set<string> | null = null;
      const valuesOf = (): Set<string> => (values ??= valueTerms(query));
      for (const term of unique) {
        const p = postings.get(term);
        if (!p) {
          total += unseenWeight(term, valuesOf);
          continue;
        }
        const idf = p.idf;
        total += idf;
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

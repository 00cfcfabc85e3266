/**
 * A multinomial logistic-regression classifier over hashed TF-IDF word uni/bi-grams and character
 * 3–4-grams, fitted at construction by a few epochs of SGD (tail-averaged) on the targets' examples
 * and profiles.
 * Weights are stored only for features seen in training (compact rows of a Float32Array), so a
 * 500-target catalog predicts in well under a millisecond.
 */
import { hash32, prng, queryWords, stem, STOPWORDS, words } from './text.ts';

/** Hyper-parameters of the classifier; the defaults are the production defaults. */
export interface ClassifierOptions {
  /** Hash space for features (a power of two). */
  buckets: number;
  charMin: number;
  charMax: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
  /** Only the last `maxChars` of a query are featurised (long conversations). */
  maxChars: number;
  /**
   * Drop stopwords from every feature. Description-only catalogs are tiny corpora whose IDF cannot
   * discount function words, so they would otherwise make unrelated texts look similar.
   */
  dropStopwords: boolean;
  /**
   * Return the average of the SGD iterates from epoch `averageFrom` on (tail Polyak–Ruppert
   * averaging; negative disables it). Averaging lets a large step size converge without the noise
   * of the last iterate; the first epoch's iterates are too far from the optimum to include.
   */
  averageFrom: number;
  /**
   * Per-class gradients smaller than this are skipped (sparse updates): a class at probability 1e-4
   * would move its weights by less than 1e-4 · learningRate.
   */
  gradientFloor: number;
  /** Step size at epoch e: learningRate / (1 + lrDecay · e). */
  lrDecay: number;
}

export const DEFAULT_CLASSIFIER: ClassifierOptions = {
  buckets: 1 << 21,
  charMin: 3,
  charMax: 4,
  epochs: 6,
  learningRate: 3,
  l2: 1e-6,
  seed: 7,
  maxChars: 2000,
  dropStopwords: false,
  averageFrom: 1,
  lrDecay: 0.5,
  gradientFloor: 1e-3,
};

/** A training document and its class index. */
export interface TrainingDoc {
  text: string;
  label: number;
}

/** A fitted classifier: class probabilities for a query. */
export interface Classifier {
  predict(query: string): Float64Array;
  /** {@link predict} of an already featurised query (the fitted featurizer's vector). */
  predictVector(x: SparseVector): Float64Array;
  readonly classes: number;
}

/** Hashed raw feature counts of a text. */
export function rawFeatures(text: string, options: ClassifierOptions): Map<number, number> {
  const out = new Map<number, number>();
  const mask = options.buckets - 1;
  const add = (h: number): void => {
    const k = h & mask;
    out.set(k, (out.get(k) ?? 0) + 1);
  };
  const source = text.length > options.maxChars ? text.slice(-options.maxChars) : text;
  const all = words(source.replace(/['’]/g, ''));
  const ws = options.dropStopwords ? all.filter((w) => !STOPWORDS.has(w)) : all;
  const stems = ws.map(stem);
  for (let i = 0; i < stems.length; i++) {
    add(hash32('w' + stems[i]));
    if (i + 1 < stems.length) add(hash32('b' + stems[i] + ' ' + stems[i + 1]));
  }
  // Character n-grams of the space-padded word, hashed in place (equal to hash32('c' + gram)) so a
  // long request allocates no n-gram strings.
  for (const w of ws) {
    const last = w.length + 1; // index of the trailing pad in ' ' + w + ' '
    for (let n = options.charMin; n <= options.charMax; n++) {
      for (let i = 0; i + n <= last + 1; i++) {
        let h = CHAR_PREFIX;
        for (let j = i; j < i + n; j++) {
          h ^= j === 0 || j === last ? 32 : w.charCodeAt(j - 1);
          h = Math.imul(h, 0x01000193);
        }
        add(h >>> 0);
      }
    }
  }
  return out;
}

/** FNV-1a state after the feature-kind prefix 'c'. */
const CHAR_PREFIX = Math.imul(0x811c9dc5 ^ 99, 0x01000193);
/** FNV-1a state after the feature-kind prefix 'b'. */
const BIGRAM_PREFIX = Math.imul(0x811c9dc5 ^ 98, 0x01000193);

/** A sparse, L2-normalised TF-IDF vector over the featurizer's vocabulary. */
export interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

/** A vocabulary and IDF fitted on training texts; turns any text into a {@link SparseVector}. */
export interface Featurizer {
  vectorize(text: string): SparseVector;
  readonly size: number;
}

/** Fit vocabulary and IDF on the training texts (features unseen in training are dropped). */
export function fitFeaturizer(
  texts: readonly string[],
  options: ClassifierOptions = DEFAULT_CLASSIFIER,
): {
  featurizer: Featurizer;
  vectors: SparseVector[];
} {
  const raw = texts.map((t) => rawFeatures(t, options));
  const vocab = new Map<number, number>();
  const df: number[] = [];
  for (const r of raw) {
    for (const h of r.keys()) {
      let i = vocab.get(h);
      if (i === undefined) {
        i = vocab.size;
        vocab.set(h, i);
        df.push(0);
      }
      df[i] = (df[i] ?? 0) + 1;
    }
  }
  const nDocs = Math.max(1, texts.length);
  const idf = Float32Array.from(df, (d) => Math.log((nDocs + 1) / (d + 1)) + 1);
  const fromRaw = (r: Map<number, number>): SparseVector => {
    const idx: number[] = [];
    const val: number[] = [];
    let norm = 0;
    for (const [h, count] of r) {
      const i = vocab.get(h);
      if (i === undefined) continue;
      const v = (1 + Math.log(count)) * (idf[i] as number);
      idx.push(i);
      val.push(v);
      norm += v * v;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    return { idx: Int32Array.from(idx), val: Float32Array.from(val, (v) => v * inv) };
  };
  return {
    featurizer: { size: vocab.size, vectorize: queryVectorizer(vocab, idf, options) },
    vectors: raw.map(fromRaw),
  };
}

/** What a query word contributes, in vocabulary indices (−1: a feature unseen in training). */
interface WordFeatures {
  /** The stem's unigram feature. */
  unigram: number;
  /** The stem, and the FNV-1a state after `'b' + stem + ' '` (a bigram's first half). */
  stem: string;
  bigramState: number;
  /** The word's character n-gram features that are in the vocabulary, in rawFeatures order. */
  chars: Int32Array;
}

/** Word entries kept per featurizer; cleared when full. */
const MAX_CACHED_WORDS = 8192;
/** Distinct recent queries whose vectors are kept per featurizer (least recently used dropped). */
const MAX_CACHED_QUERIES = 8;

/**
 * The query-time featurizer: the vector `fromRaw(rawFeatures(text))` would build, equal to the last
 * bit, without its per-call maps. Features are looked up in an open-addressing table of the
 * vocabulary and counted in a dense scratch array in order of first occurrence (the raw map's
 * insertion order, which fixes the order of the vector's entries and of every float sum over
 * them); what a word contributes (stem, unigram, character n-grams) is computed once per distinct
 * word; the last few distinct queries' vectors are kept (callers only read them).
 */
function queryVectorizer(
  vocab: ReadonlyMap<number, number>,
  idf: Float32Array,
  options: ClassifierOptions,
): (text: string) => SparseVector {
  const mask = options.buckets - 1;
  let bits = 4;
  while (1 << bits < vocab.size * 2) bits++;
  const shift = 32 - bits;
  const slotMask = (1 << bits) - 1;
  const keys = new Int32Array(1 << bits).fill(-1);
  const values = new Int32Array(1 << bits);
  for (const [key, index] of vocab) {
    let slot = Math.imul(key, 0x9e3779b1) >>> shift;
    while ((keys[slot] as number) !== -1) slot = (slot + 1) & slotMask;
    keys[slot] = key;
    values[slot] = index;
  }
  const lookup = (hash: number): number => {
    const key = hash & mask;
    let slot = Math.imul(key, 0x9e3779b1) >>> shift;
    for (;;) {
      const k = keys[slot] as number;
      if (k === key) return values[slot] as number;
      if (k === -1) return -1;
      slot = (slot + 1) & slotMask;
    }
  };

  const wordCache = new Map<string, WordFeatures>();
  const featuresOf = (w: string): WordFeatures => {
    let f = wordCache.get(w);
    if (f) return f;
    const s = stem(w);
    let state = BIGRAM_PREFIX;
    for (let j = 0; j < s.length; j++) state = Math.imul(state ^ s.charCodeAt(j), 0x01000193);
    state = Math.imul(state ^ 32, 0x01000193);
    const chars: number[] = [];
    const last = w.length + 1;
    for (let n = options.charMin; n <= options.charMax; n++) {
      for (let i = 0; i + n <= last + 1; i++) {
        let h = CHAR_PREFIX;
        for (let j = i; j < i + n; j++) {
          h ^= j === 0 || j === last ? 32 : w.charCodeAt(j - 1);
          h = Math.imul(h, 0x01000193);
        }
        const index = lookup(h >>> 0);
        if (index >= 0) chars.push(index);
      }
    }
    f = { unigram: lookup(hash32('w' + s)), stem: s, bigramState: state, chars: Int32Array.from(chars) };
    if (wordCache.size >= MAX_CACHED_WORDS) wordCache.clear();
    wordCache.set(w, f);
    return f;
  };

  const counts = new Int32Array(vocab.size);
  let touched = new Int32Array(64);
  let nTouched = 0;
  const add = (index: number): void => {
    if (index < 0) return;
    const c = counts[index] as number;
    if (c === 0) {
      if (nTouched === touched.length) {
        const grown = new Int32Array(touched.length * 2);
        grown.set(touched);
        touched = grown;
      }
      touched[nTouched++] = index;
    }
    counts[index] = c + 1;
  };

  const vectorize = (text: string): SparseVector => {
    const source = text.length > options.maxChars ? text.slice(-options.maxChars) : text;
    const all = queryWords(source);
    const ws = options.dropStopwords ? all.filter((w) => !STOPWORDS.has(w)) : all;
    const fs = ws.map(featuresOf);
    nTouched = 0;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i] as WordFeatures;
      add(f.unigram);
      const next = fs[i + 1];
      if (next) {
        let h = f.bigramState;
        const s = next.stem;
        for (let j = 0; j < s.length; j++) h = Math.imul(h ^ s.charCodeAt(j), 0x01000193);
        add(lookup(h >>> 0));
      }
    }
    for (const f of fs) for (let k = 0; k < f.chars.length; k++) add(f.chars[k] as number);
    const idx = new Int32Array(nTouched);
    const raw = new Float64Array(nTouched);
    let norm = 0;
    for (let k = 0; k < nTouched; k++) {
      const i = touched[k] as number;
      const v = (1 + Math.log(counts[i] as number)) * (idf[i] as number);
      counts[i] = 0;
      idx[k] = i;
      raw[k] = v;
      norm += v * v;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const val = new Float32Array(nTouched);
    for (let k = 0; k < nTouched; k++) val[k] = (raw[k] as number) * inv;
    return { idx, val };
  };

  const recent = new Map<string, SparseVector>();
  return (text) => {
    let v = recent.get(text);
    if (v) {
      recent.delete(text);
    } else {
      v = vectorize(text);
      if (recent.size >= MAX_CACHED_QUERIES) recent.delete(recent.keys().next().value as string);
    }
    recent.set(text, v);
    return v;
  };
}

/** Fit a classifier over `classes` labels. Deterministic for a given input and seed. */
export function fitClassifier(
  docs: readonly TrainingDoc[],
  classes: number,
  options: ClassifierOptions = DEFAULT_CLASSIFIER,
  fitted: { featurizer: Featurizer; vectors: SparseVector[] } = fitFeaturizer(
    docs.map((d) => d.text),
    options,
  ),
): Classifier {
  const { featurizer, vectors: xs } = fitted;
  const vocabSize = featurizer.size;
  const C = classes;
  const W = new Float32Array(vocabSize * C);
  const bias = new Float64Array(C);
  const logits = new Float64Array(C);
  const rand = prng(options.seed);
  const order = Int32Array.from(docs.keys());

  const forward = (x: SparseVector, out: Float64Array): void => {
    out.set(bias);
    for (let k = 0; k < x.idx.length; k++) {
      const row = (x.idx[k] as number) * C;
      const v = x.val[k] as number;
      for (let c = 0; c < C; c++) out[c] = (out[c] as number) + v * (W[row + c] as number);
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) if ((out[c] as number) > max) max = out[c] as number;
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp((out[c] as number) - max);
      out[c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) out[c] = (out[c] as number) / sum;
  };

  // Lazy averaging: alongside W keep U = Σ step·Δ over the averaged steps; the mean iterate is then
  // W − U / steps, with no per-step pass over all weights.
  const averaged = options.averageFrom >= 0 && options.averageFrom < options.epochs;
  const U = averaged ? new Float32Array(W.length) : null;
  const biasU = new Float64Array(C);
  const active = new Int32Array(C);
  const floor = options.gradientFloor;
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    if (epoch === options.averageFrom) step = 1;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    const lr = options.learningRate / (1 + options.lrDecay * epoch);
    const shrink = -lr * options.l2;
    for (const d of order) {
      const x = xs[d] as SparseVector;
      const label = (docs[d] as TrainingDoc).label;
      forward(x, logits);
      logits[label] = (logits[label] as number) - 1;
      // Classes with a non-negligible gradient: after the first epoch most are near zero probability.
      let n = 0;
      for (let c = 0; c < C; c++) {
        const g = logits[c] as number;
        const delta = -lr * g;
        bias[c] = (bias[c] as number) + delta;
        biasU[c] = (biasU[c] as number) + step * delta;
        if (g <= -floor || g >= floor) active[n++] = c;
      }
      for (let k = 0; k < x.idx.length; k++) {
        const row = (x.idx[k] as number) * C;
        const v = (x.val[k] as number) * lr;
        for (let j = 0; j < n; j++) {
          const at = row + (active[j] as number);
          const delta = (W[at] as number) * shrink - v * (logits[active[j] as number] as number);
          W[at] = (W[at] as number) + delta;
          if (U && step > 0) U[at] = (U[at] as number) + step * delta;
        }
      }
      if (step > 0) step++;
    }
  }
  if (U && step > 0) {
    for (let i = 0; i < W.length; i++) W[i] = (W[i] as number) - (U[i] as number) / step;
    for (let c = 0; c < C; c++) bias[c] = (bias[c] as number) - (biasU[c] as number) / step;
  }

  return {
    classes: C,
    predict(query: string): Float64Array {
      const out = new Float64Array(C);
      forward(featurizer.vectorize(query), out);
      return out;
    },
    predictVector(x: SparseVector): Float64Array {
      const out = new Float64Array(C);
      forward(x, out);
      return out;
    },
  };
}

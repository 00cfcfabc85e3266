/**
 * A multinomial logistic-regression classifier over hashed TF-IDF word uni/bi-grams and character
 * 3–4-grams, fitted at construction by a few epochs of SGD (tail-averaged) on the targets' examples
 * and profiles.
 * Weights are stored only for features seen in training (compact rows of a Float32Array), so a
 * 500-target catalog predicts in well under a millisecond.
 */
import { hash32, prng, stem, STOPWORDS, words } from './text.ts';

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
    featurizer: { size: vocab.size, vectorize: (text) => fromRaw(rawFeatures(text, options)) },
    vectors: raw.map(fromRaw),
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
  };
}

/**
 * Nearest-example scorer: cosine similarity between the query and each training document
 * (examples and target profiles) in the classifier's TF-IDF space, pooled per target by maximum.
 * It complements the linear model on intents whose examples are few or phrased unusually.
 */
import type { Featurizer, SparseVector } from './classifier.ts';

/** An inverted index over training vectors. */
export interface NeighborIndex {
  /** Per-target best cosine similarity to any of its documents, in [0, 1]. */
  score(query: string): Float64Array;
  /** {@link score} of an already featurised query (the featurizer's vector). */
  scoreVector(q: SparseVector): Float64Array;
}

/** Build the index; `labels[i]` is the target index of `vectors[i]`. */
export function createNeighborIndex(
  featurizer: Featurizer,
  vectors: readonly SparseVector[],
  labels: readonly number[],
  targets: number,
): NeighborIndex {
  const counts = new Int32Array(featurizer.size);
  for (const v of vectors) for (const i of v.idx) counts[i] = (counts[i] as number) + 1;
  const start = new Int32Array(featurizer.size + 1);
  for (let i = 0; i < featurizer.size; i++) start[i + 1] = (start[i] as number) + (counts[i] as number);
  const docs = new Int32Array(start[featurizer.size] as number);
  const vals = new Float32Array(docs.length);
  const fill = Int32Array.from(start.subarray(0, featurizer.size));
  vectors.forEach((v, d) => {
    for (let k = 0; k < v.idx.length; k++) {
      const f = v.idx[k] as number;
      const at = fill[f] as number;
      docs[at] = d;
      vals[at] = v.val[k] as number;
      fill[f] = at + 1;
    }
  });
  const labelOf = Int32Array.from(labels);
  const sims = new Float32Array(vectors.length);
  const scoreVector = (q: SparseVector): Float64Array => {
    sims.fill(0);
    for (let k = 0; k < q.idx.length; k++) {
      const f = q.idx[k] as number;
      const w = q.val[k] as number;
      const end = start[f + 1] as number;
      for (let p = start[f] as number; p < end; p++) {
        const d = docs[p] as number;
        sims[d] = (sims[d] as number) + w * (vals[p] as number);
      }
    }
    const out = new Float64Array(targets);
    for (let d = 0; d < sims.length; d++) {
      const t = labelOf[d] as number;
      if ((sims[d] as number) > (out[t] as number)) out[t] = sims[d] as number;
    }
    return out;
  };
  return { score: (query) => scoreVector(featurizer.vectorize(query)), scoreVector };
}

// The per-step fast paths of routing (ASCII tokeniser, cached stems and word features, dense
// feature counting, the recent-query cache) must give exactly what the straightforward code gave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_CLASSIFIER,
  fitFeaturizer,
  rawFeatures,
  type ClassifierOptions,
  type SparseVector,
} from '../../../src/routing/classifier.ts';
import { fitEngine } from '../../../src/routing/scoring.ts';
import { words } from '../../../src/routing/text.ts';
import { agents, tools } from './helpers.ts';

/** The regex tokeniser every text went through before the ASCII fast path. */
function referenceWords(text: string): string[] {
  const spaced = text
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .replace(/(\p{L})(\p{N})/gu, '$1 $2')
    .replace(/(\p{N})(\p{L})/gu, '$1 $2');
  return [...spaced.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)].map((m) => m[0]);
}

/** Identifier-like ASCII text: runs of capitals, lower case, digits and separators. */
const identifierText = fc
  .array(fc.constantFrom('a', 'b', 'z', 'A', 'B', 'Z', '0', '7', ' ', '_', '.', '-', "'", '\n', '{', '"'), {
    maxLength: 40,
  })
  .map((cs) => cs.join(''));

void test('the ASCII tokeniser splits exactly as the regex tokeniser', () => {
  for (const text of [
    'getCurrentWeather',
    'HNA_WQA.search',
    'HTTPServer2Go',
    'ABCd aBCd 1ABc ef903ac-893-f00 transfer money 5x',
    'A',
    'aB',
    '',
    'naïve café ÜNÏcode ’s',
  ])
    assert.deepEqual(words(text), referenceWords(text), text);
  fc.assert(
    fc.property(
      fc.oneof(identifierText, fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 })),
      (text) => {
        assert.deepEqual(words(text), referenceWords(text));
      },
    ),
    { numRuns: 3000 },
  );
});

/** fitFeaturizer's vectorisation of a text, rebuilt from rawFeatures and the training texts. */
function referenceVectorizer(training: readonly string[], options: ClassifierOptions) {
  const raw = training.map((t) => rawFeatures(t, options));
  const vocab = new Map<number, number>();
  const df: number[] = [];
  for (const r of raw)
    for (const h of r.keys()) {
      let i = vocab.get(h);
      if (i === undefined) vocab.set(h, (i = vocab.size));
      df[i] = (df[i] ?? 0) + 1;
    }
  const n = Math.max(1, training.length);
  const idf = Float32Array.from(df, (d) => Math.log((n + 1) / (d + 1)) + 1);
  return (text: string): SparseVector => {
    const idx: number[] = [];
    const val: number[] = [];
    let norm = 0;
    for (const [h, count] of rawFeatures(text, options)) {
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
}

const training = [...agents, ...tools].flatMap((t) => [
  `${t.name} . ${t.description}`,
  ...(t.examples ?? []),
]);
const queries = [
  'I was charged twice for my order and my parcel never arrived',
  'please please refund refund my my last payment 12345 ORD-991',
  'getCurrentWeather for Paris, then the HTTPServer status',
  'naïve café: où est mon colis?',
  'something entirely unrelated zzqx',
  '',
  training.join('\n'),
];

void test('query vectors equal the reference vectorisation, cached or not', () => {
  for (const dropStopwords of [false, true]) {
    const options = { ...DEFAULT_CLASSIFIER, dropStopwords };
    const { featurizer, vectors } = fitFeaturizer(training, options);
    const reference = referenceVectorizer(training, options);
    training.forEach((t, i) => assert.deepEqual(featurizer.vectorize(t), vectors[i], t));
    // Twice over: the second pass is served from the caches.
    for (const q of [...queries, ...queries]) assert.deepEqual(featurizer.vectorize(q), reference(q), q);
    fc.assert(
      fc.property(fc.oneof(identifierText, fc.lorem({ maxCount: 30 })), (q) => {
        assert.deepEqual(featurizer.vectorize(q), reference(q));
      }),
      { numRuns: 500 },
    );
  }
});

void test('scoring a query again gives the same result', () => {
  for (const catalog of [agents, tools]) {
    const engine = fitEngine(catalog);
    for (const q of queries) {
      const a = engine.score(q);
      const b = fitEngine(catalog).score(q);
      assert.deepEqual(a.candidates, b.candidates);
      assert.deepEqual(engine.score(q).candidates, a.candidates);
      assert.equal(engine.score(q).confidence, a.confidence);
    }
  }
});

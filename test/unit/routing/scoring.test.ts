import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CLASSIFIER,
  fitClassifier,
  rawFeatures,
  type TrainingDoc,
} from '../../../src/routing/classifier.ts';
import { fitEngine } from '../../../src/routing/scoring.ts';
import { hash32, stem, words } from '../../../src/routing/text.ts';
import { agents, tools } from './helpers.ts';

/** The reference featurisation: every feature built as a string, then hashed. */
function referenceFeatures(text: string): Map<number, number> {
  const o = DEFAULT_CLASSIFIER;
  const out = new Map<number, number>();
  const add = (f: string): void => {
    const h = hash32(f) & (o.buckets - 1);
    out.set(h, (out.get(h) ?? 0) + 1);
  };
  const ws = words(text.replace(/['’]/g, ''));
  const stems = ws.map(stem);
  for (let i = 0; i < stems.length; i++) {
    add('w' + stems[i]);
    if (i + 1 < stems.length) add('b' + stems[i] + ' ' + stems[i + 1]);
  }
  for (const w of ws) {
    const padded = ' ' + w + ' ';
    for (let n = o.charMin; n <= o.charMax; n++) {
      for (let i = 0; i + n <= padded.length; i++) add('c' + padded.slice(i, i + n));
    }
  }
  return out;
}

void test('in-place character n-gram hashing equals hashing the n-gram strings', () => {
  for (const text of [
    "I can't find my card's PIN!",
    'getCurrentWeather(city)',
    'a',
    'naïve café ünïcode',
    '',
  ]) {
    const got = [...rawFeatures(text, DEFAULT_CLASSIFIER)].sort((a, b) => a[0] - b[0]);
    const want = [...referenceFeatures(text)].sort((a, b) => a[0] - b[0]);
    assert.deepEqual(got, want, text);
  }
});

void test('the averaged classifier is deterministic and separates the training classes', () => {
  const docs: TrainingDoc[] = agents.flatMap((a, label) =>
    (a.examples ?? []).map((text) => ({ text, label })),
  );
  for (const averageFrom of [1, -1]) {
    const options = { ...DEFAULT_CLASSIFIER, averageFrom };
    const a = fitClassifier(docs, agents.length, options);
    const b = fitClassifier(docs, agents.length, options);
    for (const d of docs) {
      const p = a.predict(d.text);
      assert.deepEqual(p, b.predict(d.text));
      assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-9);
      assert.equal(p.indexOf(Math.max(...p)), d.label, `${d.text} (averageFrom ${averageFrom})`);
    }
  }
});

void test('top-k candidate selection matches a full sort, ties broken by name', () => {
  const engine = fitEngine([
    ...tools,
    // Two identical targets tie on every signal.
    { name: 'zz_twin', description: 'send an email message to a contact' },
    { name: 'aa_twin', description: 'send an email message to a contact' },
  ]);
  for (const q of ['email my contact a message', 'refund the order', 'weather tomorrow']) {
    const all = engine.score(q, { limit: 1000 });
    const sorted = [...all.candidates].sort((a, b) => b.fused - a.fused || (a.name < b.name ? -1 : 1));
    assert.deepEqual(
      all.candidates.map((c) => c.name),
      sorted.map((c) => c.name),
    );
    const top3 = engine.score(q, { limit: 3 });
    assert.deepEqual(top3.candidates, all.candidates.slice(0, 3));
    assert.equal(top3.confidence, all.confidence);
    assert.equal(engine.score(q, { limit: 0 }).confidence, all.confidence);
  }
  const twins = engine.score('send an email message to a contact', { limit: 1000 }).candidates;
  const at = twins.findIndex((c) => c.name === 'aa_twin');
  assert.equal(twins[at + 1]?.name, 'zz_twin');
});

void test('only the last maxQueryChars of a long conversation are scored', () => {
  const tail = 'I forgot my password';
  const engine = fitEngine(agents, { maxQueryChars: tail.length });
  const long = 'where is my package, track my delivery please '.repeat(20) + tail;
  const data = ({ candidates, confidence, signals }: ReturnType<typeof engine.score>) => ({
    candidates,
    confidence,
    signals,
  });
  assert.deepEqual(data(engine.score(long)), data(engine.score(tail)));
});

void test('description-only coverage: names cost nothing, unknown request words cost more, variants less', () => {
  const catalog = [
    { name: 'get_weather', description: 'Current weather conditions for a city.' },
    { name: 'book_house', description: 'Book a house for a stay.' },
    { name: 'send_email', description: 'Send an email message to a recipient.' },
  ];
  const engine = fitEngine(catalog);
  assert.equal(engine.supervised, false);
  const conf = (q: string): number => engine.score(q).confidence;
  // A capitalised name inside the sentence is an argument value, not an unknown request.
  assert.equal(conf('What is the weather in Springfield?'), conf('What is the weather?'));
  // The same word in lower case is a request word the catalog never uses.
  assert.ok(conf('What is the weather in springfield?') < conf('What is the weather in Springfield?'));
  // A word sharing its first letters with a catalog word (housekeeper / house) costs less.
  assert.ok(conf('book a housekeeper') > conf('book a plumber'));
  // Without examples the confidence is the best coverage over every allowed tool, not only the top one.
  const scored = engine.score('send weather email');
  const best = Math.max(...scored.candidates.map((c) => c.scores.coverage as number));
  assert.equal(scored.confidence, Math.round(Math.pow(best, 0.78) * 10_000) / 10_000);
});

void test('catalogs with examples keep plain IDF coverage as their confidence signal', () => {
  const catalog = [
    {
      name: 'weather',
      description: 'Weather.',
      examples: ['weather today', 'is it raining', 'forecast please'],
    },
    { name: 'email', description: 'Email.', examples: ['send an email', 'write to bob', 'mail my boss'] },
  ];
  const engine = fitEngine(catalog);
  assert.equal(engine.supervised, true);
  const named = engine.score('weather in Springfield').candidates[0]?.scores.coverage as number;
  const plain = engine.score('weather in springfield').candidates[0]?.scores.coverage as number;
  assert.equal(named, plain);
  assert.ok(named < 1);
});

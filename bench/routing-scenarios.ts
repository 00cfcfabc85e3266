/**
 * The scenario-derived tools suites (built by bench/routing-scenario-suite.ts), scored with the
 * tools' own scores only, with schema links (the production default), and with schema links plus
 * co-usage priors learned leave-one-scenario-out (a scenario's own runs never teach its priors).
 * Also: how much retrieval at every step closes, from what the running system showed.
 *
 *   node bench/routing-scenarios.ts      a markdown table
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createToolRetriever,
  learnCoUsage,
  suiteSchema,
  type CoUsagePriors,
  type RetrieverOptions,
  type Suite,
} from '../src/routing/index.ts';
import { pct } from './routing-common.ts';
import type { ObservedCase } from './routing-scenario-suite.ts';

const KS = [1, 3, 5] as const;

const scenarioOf = (id: string): string => id.split('#')[0] as string;

/** Share of cases with every expected tool in the top k, for each k. */
function recall(suite: Suite, optionsFor: (scenario: string) => RetrieverOptions): number[] {
  const hits = KS.map(() => 0);
  const fitted = new Map<string, ReturnType<typeof createToolRetriever>>();
  const permitted = new Set(suite.targets.map((t) => t.name));
  for (const c of suite.cases) {
    const scenario = scenarioOf(c.id);
    let retriever = fitted.get(scenario);
    if (!retriever) {
      retriever = createToolRetriever(suite.targets, optionsFor(scenario));
      fitted.set(scenario, retriever);
    }
    const ranked = retriever.retrieve(c.query, { permitted, topK: 5 }).candidates.map((x) => x.name);
    KS.forEach((k, i) => {
      if (c.expected.every((e) => ranked.slice(0, k).includes(e))) hits[i] = (hits[i] ?? 0) + 1;
    });
  }
  return hits.map((h) => h / suite.cases.length);
}

/** Priors from every other scenario's completed (passing) turns. */
function leaveOneOut(observed: readonly ObservedCase[]): (scenario: string) => CoUsagePriors {
  return (scenario) =>
    learnCoUsage(observed.filter((o) => o.passed && o.scenario !== scenario).map((o) => o.called));
}

/** Share of cases whose needed tools were all shown at some model call (retrieval at every step). */
function everyStep(suite: Suite, observed: readonly ObservedCase[], byScenario: boolean): number {
  let hit = 0;
  for (const c of suite.cases) {
    const mine = observed.filter((o) => (byScenario ? o.scenario === c.id : o.id === c.id));
    const shown = new Set(mine.flatMap((o) => o.shownPerModelCall.flat()));
    if (c.expected.every((e) => shown.has(e))) hit++;
  }
  return hit / suite.cases.length;
}

/** The table rows for the per-turn and per-task scenario suites. */
export function scenarioRows(dir: string = import.meta.dirname): string[] {
  const observed = JSON.parse(
    readFileSync(join(dir, 'routing-scenario-observed.json'), 'utf8'),
  ) as ObservedCase[];
  const rows = [
    '| suite | cases | multi-tool | retrieval | R@1 | R@3 | R@5 |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [file, byScenario] of [
    ['routing-scenario-suite.json', false],
    ['routing-scenario-tasks.json', true],
  ] as const) {
    const suite = suiteSchema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const multi = suite.cases.filter((c) => c.expected.length > 1).length;
    const priors = leaveOneOut(observed);
    const variants: [string, (s: string) => RetrieverOptions][] = [
      ['own scores only (`links: false`)', () => ({ links: false })],
      ['+ schema links (default)', () => ({})],
      ['+ schema links + co-usage (leave-one-scenario-out)', (s) => ({ coUsage: priors(s) })],
    ];
    for (const [label, options] of variants) {
      const r = recall(suite, options);
      rows.push(
        `| ${suite.name} | ${suite.cases.length} | ${multi} | ${label} | ${r.map((x) => pct(x)).join(' | ')} |`,
      );
    }
    rows.push(
      `| ${suite.name} | ${suite.cases.length} | ${multi} | shown at any step of the running system (per-agent catalogs) | – | – | ${pct(everyStep(suite, observed, byScenario))} |`,
    );
  }
  return rows;
}

if (import.meta.main) console.log(scenarioRows().join('\n'));

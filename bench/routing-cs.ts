/**
 * The multi-step customer-service suite (bench/routing-cs-tasks.json: a customer's first message →
 * every tool the policy in bench/routing-cs-policy.md needs), scored with the tools' own scores
 * only and with each link kind and weight of the production defaults added one at a time; on the
 * pooled catalog (three domains, as one agent with every tool) and on per-domain catalogs (one
 * agent per domain, as a system would split them). Co-usage priors
 * are learned leave-one-case-out from the other cases' tool sets (the journal of completed runs a
 * deployed system would learn from; a case never teaches its own priors).
 *
 *   node bench/routing-cs.ts                      a markdown table
 *   node bench/routing-cs.ts --before <checkout>  the same table, plus the rows of the production
 *                                                 defaults of another checkout's src/routing
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as current from '../src/routing/index.ts';
import {
  DEFAULT_LINKS,
  learnCoUsage,
  suiteSchema,
  type CoUsagePriors,
  type RetrieverOptions,
  type RoutingTarget,
  type Suite,
} from '../src/routing/index.ts';

type Routing = Pick<typeof current, 'createToolRetriever'>;
import { pct } from './routing-common.ts';

const KS = [1, 3, 5, 10] as const;
type Case = Suite['cases'][number];

/** This session's two weights at their neutral values: a mention counts as an identifier, no alternatives. */
const NEUTRAL = { mentionAffinity: DEFAULT_LINKS.textAffinity, alternativeWeight: 1 };

const domainOf = (c: Case): string => c.id.replace(/-\d+$/u, '');

/** Each domain's catalog: the tools its cases expect (every tool of the suite belongs to one). */
function domainCatalogs(suite: Suite): Map<string, RoutingTarget[]> {
  const owner = new Map<string, string>();
  for (const c of suite.cases) for (const e of c.expected) owner.set(e, domainOf(c));
  const out = new Map<string, RoutingTarget[]>();
  for (const t of suite.targets) {
    const d = owner.get(t.name);
    if (!d) throw new Error(`${t.name}: no case expects it, so it belongs to no domain`);
    out.set(d, [...(out.get(d) ?? []), t]);
  }
  return out;
}

function recall(
  suite: Suite,
  perDomain: boolean,
  optionsFor: (c: Case) => RetrieverOptions,
  fitOnce: boolean,
  { createToolRetriever }: Routing = current,
): number[] {
  const hits = KS.map(() => 0);
  const catalogs = perDomain ? domainCatalogs(suite) : null;
  const fitted = new Map<string, ReturnType<typeof createToolRetriever>>();
  for (const c of suite.cases) {
    const targets = catalogs ? (catalogs.get(domainOf(c)) ?? []) : suite.targets;
    const key = perDomain ? domainOf(c) : '';
    let retriever = fitOnce ? fitted.get(key) : undefined;
    if (!retriever) {
      retriever = createToolRetriever(targets, optionsFor(c));
      if (fitOnce) fitted.set(key, retriever);
    }
    const permitted = new Set(targets.map((t) => t.name));
    const ranked = retriever.retrieve(c.query, { permitted, topK: 10 }).candidates.map((x) => x.name);
    KS.forEach((k, i) => {
      if (c.expected.every((e) => ranked.slice(0, k).includes(e))) hits[i] = (hits[i] ?? 0) + 1;
    });
  }
  return hits.map((h) => h / suite.cases.length);
}

/** Priors from every other case's tool set. */
function leaveOneOut(suite: Suite): (c: Case) => CoUsagePriors {
  return (c) => learnCoUsage(suite.cases.filter((o) => o.id !== c.id).map((o) => o.expected));
}

/**
 * The table rows for the customer-service suite; with `before` (another checkout's routing module),
 * first the rows of its production defaults.
 */
export function customerServiceRows(dir: string = import.meta.dirname, before?: Routing): string[] {
  const suite = suiteSchema.parse(JSON.parse(readFileSync(join(dir, 'routing-cs-tasks.json'), 'utf8')));
  const sizes = suite.cases.map((c) => c.expected.length);
  const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  const priors = leaveOneOut(suite);
  const variants: [string, (c: Case) => RetrieverOptions, boolean][] = [
    ['own scores only (`links: false`)', () => ({ links: false }), true],
    [
      '+ schema links (decay 0.95, 3 hops, description 1)',
      () => ({ links: { ...NEUTRAL, readWeight: 0 } }),
      true,
    ],
    ['+ reader links', () => ({ links: NEUTRAL }), true],
    ['+ a mere mention of the entity counts 0.7', () => ({ links: { alternativeWeight: 1 } }), true],
    ['+ alternative producers 0.6 (the production default)', () => ({}), true],
    ['+ co-usage priors (leave-one-case-out)', (c) => ({ coUsage: priors(c) }), false],
  ];
  const rows = [
    `${suite.cases.length} cases, ${suite.targets.length} tools, ${mean.toFixed(1)} needed tools per case (${Math.min(...sizes)}–${Math.max(...sizes)}).\n`,
    '| catalog | retrieval | R@1 | R@3 | R@5 | R@10 |',
    '|---|---|---|---|---|---|',
  ];
  for (const perDomain of [false, true]) {
    if (before) {
      const r = recall(suite, perDomain, () => ({}), true, before);
      rows.push(
        `| ${perDomain ? 'per domain' : 'pooled'} | before: the other checkout's defaults | ${r.map((x) => pct(x)).join(' | ')} |`,
      );
    }
    for (const [label, options, fitOnce] of variants) {
      const r = recall(suite, perDomain, options, fitOnce);
      rows.push(
        `| ${perDomain ? 'per domain' : 'pooled'} | ${label} | ${r.map((x) => pct(x)).join(' | ')} |`,
      );
    }
  }
  return rows;
}

if (import.meta.main) {
  const at = process.argv.indexOf('--before');
  const checkout = at > 0 ? process.argv[at + 1] : undefined;
  const before = checkout
    ? ((await import(join(resolve(checkout), 'src/routing/index.ts'))) as Routing)
    : undefined;
  console.log(customerServiceRows(import.meta.dirname, before).join('\n'));
}

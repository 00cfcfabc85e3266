/**
 * The `switchboard-routing-suite/1` format and its evaluation: the production router (agents
 * suites) or tool retriever (tools suites) with default options, measured case by case.
 */
import { z } from 'zod';
import type { AgentRouter } from '../core/routing-port.ts';
import { createRouter, createToolRetriever, type RetrieverOptions } from './router.ts';
import type { RoutingTarget } from './types.ts';

const targetSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  examples: z.array(z.string()).optional(),
  parameters: z.unknown().optional(),
  output: z.unknown().optional(),
});

/** Zod schema of a suite file; parse errors name the offending path. */
export const suiteSchema = z
  .object({
    format: z.literal('switchboard-routing-suite/1'),
    name: z.string().min(1),
    kind: z.enum(['agents', 'tools']),
    source: z.string().optional(),
    license: z.string().optional(),
    targets: z.array(targetSchema),
    cases: z
      .array(
        z.object({
          id: z.string().min(1),
          query: z.string(),
          expected: z.array(z.string()),
          targets: z.array(targetSchema).optional(),
        }),
      )
      .min(1),
  })
  .superRefine((suite, ctx) => {
    suite.cases.forEach((c, i) => {
      const catalog = new Set((c.targets ?? suite.targets).map((t) => t.name));
      c.expected.forEach((name, j) => {
        if (!catalog.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['cases', i, 'expected', j],
            message: `names unknown target "${name}"`,
          });
        }
      });
      if (suite.kind === 'agents' && c.expected.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['cases', i, 'expected'],
          message: 'agents cases expect at most one',
        });
      }
    });
  });

export type Suite = z.infer<typeof suiteSchema>;

/** The measured results of one suite (the `--json` object of `switchboard eval`). */
export interface EvalResult {
  suite: string;
  kind: 'agents' | 'tools';
  cases: number;
  /** Share of in-scope cases whose best-ranked target is the expected one (null without in-scope cases). */
  top1: number | null;
  /** Share of in-scope cases with every expected target in the top k, keyed by k. */
  recallAt: Record<string, number | null>;
  /** Share of out-of-scope cases (expected []) on which the router abstained. */
  abstainRecall: number | null;
  /** Share of in-scope cases on which the router abstained. */
  falseAbstainRate: number | null;
  latencyMs: { p50: number; p99: number };
  /** Fit time of the suite's catalog; for per-case catalogs, the sum over distinct catalogs. */
  fitMs: number;
}

/** Extra numbers the text report shows besides the JSON keys. */
export interface EvalDetails {
  /** Share of in-scope cases whose decision (after abstention) was exactly right. */
  decidedAccuracy: number | null;
  inScope: number;
  outOfScope: number;
}

const percentile = (sorted: number[], q: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

type Catalog = {
  rank(query: string, limit: number): { ranked: string[]; abstained: boolean; choice: string | null };
  fitMs: number;
};

/**
 * What to score instead of the production defaults fitted on the suite's catalog: a router that is
 * already fitted (a configured system's), or retriever options.
 */
export type SuiteCatalog =
  { kind: 'agents'; router: AgentRouter } | { kind: 'tools'; options: RetrieverOptions };

function fitCatalog(kind: 'agents' | 'tools', targets: RoutingTarget[], custom?: SuiteCatalog): Catalog {
  if (custom?.kind === 'agents' && kind === 'agents') {
    const router = custom.router;
    return {
      fitMs: (router as { fitMs?: number }).fitMs ?? 0,
      rank(query) {
        const d = router.route(query);
        return { ranked: d.candidates.map((c) => c.name), abstained: d.choice === null, choice: d.choice };
      },
    };
  }
  if (kind === 'agents') {
    const router = createRouter(targets, { maxCandidates: 10 });
    return {
      fitMs: router.fitMs,
      rank(query) {
        const d = router.route(query);
        return { ranked: d.candidates.map((c) => c.name), abstained: d.choice === null, choice: d.choice };
      },
    };
  }
  const retriever = createToolRetriever(targets, custom?.kind === 'tools' ? custom.options : {});
  const permitted = new Set(targets.map((t) => t.name));
  return {
    fitMs: retriever.fitMs,
    rank(query, limit) {
      const r = retriever.retrieve(query, { permitted, topK: limit });
      return { ranked: r.candidates.map((c) => c.name), abstained: r.abstained, choice: r.shown[0] ?? null };
    },
  };
}

/** Evaluate a parsed suite with production defaults. `now` is the clock used for latency. */
export function evaluateSuite(
  suite: Suite,
  ks: readonly number[] = [1, 3, 5, 10],
  now: () => number = () => performance.now(),
  custom?: SuiteCatalog,
): { result: EvalResult; details: EvalDetails } {
  const maxK = Math.max(1, ...ks);
  const cache = new Map<string, Catalog>();
  let fitMs = 0;
  const catalogFor = (targets: RoutingTarget[]): Catalog => {
    // Cases sharing a catalog share one fit, as an agent's retriever is fitted once.
    const key = targets === suite.targets ? '' : JSON.stringify(targets);
    let c = cache.get(key);
    if (!c) {
      c = fitCatalog(suite.kind, targets, custom);
      fitMs += c.fitMs;
      cache.set(key, c);
    }
    return c;
  };
  let inScope = 0;
  let outOfScope = 0;
  let top1 = 0;
  let decided = 0;
  let abstainHits = 0;
  let falseAbstain = 0;
  const recall = new Map<number, number>(ks.map((k) => [k, 0]));
  const latencies: number[] = [];
  // Warm the JIT on a few cases first so latency percentiles measure steady-state routing.
  for (const c of suite.cases.slice(0, 50)) catalogFor(c.targets ?? suite.targets).rank(c.query, maxK);
  for (const c of suite.cases) {
    const catalog = catalogFor(c.targets ?? suite.targets);
    const started = now();
    const r = catalog.rank(c.query, maxK);
    latencies.push(now() - started);
    if (c.expected.length === 0) {
      outOfScope++;
      if (r.abstained) abstainHits++;
      continue;
    }
    inScope++;
    if (r.abstained) falseAbstain++;
    if (c.expected.includes(r.ranked[0] ?? '')) top1++;
    if (!r.abstained && r.choice !== null && c.expected.length === 1 && r.choice === c.expected[0]) decided++;
    for (const k of ks) {
      const top = new Set(r.ranked.slice(0, k));
      if (c.expected.every((e) => top.has(e))) recall.set(k, (recall.get(k) ?? 0) + 1);
    }
  }
  latencies.sort((a, b) => a - b);
  const r4 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10_000) / 10_000);
  return {
    result: {
      suite: suite.name,
      kind: suite.kind,
      cases: suite.cases.length,
      top1: r4(ratio(top1, inScope)),
      recallAt: Object.fromEntries(ks.map((k) => [String(k), r4(ratio(recall.get(k) ?? 0, inScope))])),
      abstainRecall: r4(ratio(abstainHits, outOfScope)),
      falseAbstainRate: r4(ratio(falseAbstain, inScope)),
      latencyMs: {
        p50: Math.round(percentile(latencies, 0.5) * 1000) / 1000,
        p99: Math.round(percentile(latencies, 0.99) * 1000) / 1000,
      },
      fitMs: Math.round(fitMs),
    },
    details: { decidedAccuracy: r4(ratio(decided, inScope)), inScope, outOfScope },
  };
}

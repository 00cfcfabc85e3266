/**
 * Routing evaluation benchmark: runs `switchboard eval` (production defaults) on every suite in
 * the data directory and measures routing latency on a 500-target tool catalog.
 * Usage: node bench/routing-eval.ts [suites-dir]   (default ../shared/data/suites)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runEval } from '../src/cli/eval.ts';
import { createToolRetriever, type EvalResult, type RoutingTarget } from '../src/routing/index.ts';

const dir = resolve(process.argv[2] ?? join(import.meta.dirname, '../../shared/data/suites'));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : (x * 100).toFixed(1);
const rows: string[] = [
  '| suite | kind | cases | top-1 | R@1 | R@3 | R@5 | R@10 | abstain recall | false abstain | p50 ms | p99 ms | fit ms |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const f of files) {
  const lines: string[] = [];
  const code = await runEval([join(dir, f), '--json'], (l) => lines.push(l));
  if (code !== 0) {
    console.error(`${f}: ${lines.join(' ')}`);
    continue;
  }
  const r = JSON.parse(lines[0] ?? '{}') as EvalResult;
  rows.push(
    `| ${r.suite} | ${r.kind} | ${r.cases} | ${r.kind === 'agents' ? pct(r.top1) : '–'} | ${pct(r.recallAt['1'])} | ` +
      `${pct(r.recallAt['3'])} | ${pct(r.recallAt['5'])} | ${pct(r.recallAt['10'])} | ${pct(r.abstainRecall)} | ` +
      `${pct(r.falseAbstainRate)} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.fitMs} |`,
  );
}
console.log(rows.join('\n'));

// A 500-target catalog: every distinct tool of the BFCL suites, pooled.
const pool = new Map<string, RoutingTarget>();
const queries: string[] = [];
for (const f of ['bfcl-live-multiple.json', 'bfcl-live-irrelevance.json']) {
  const suite = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
    targets: RoutingTarget[];
    cases: { query: string; targets?: RoutingTarget[] }[];
  };
  for (const t of suite.targets) if (!pool.has(t.name)) pool.set(t.name, t);
  for (const c of suite.cases) {
    queries.push(c.query);
    for (const t of c.targets ?? []) if (!pool.has(t.name)) pool.set(t.name, t);
  }
}
const catalog = [...pool.values()].slice(0, 500);
const retriever = createToolRetriever(catalog);
const permitted = new Set(catalog.map((t) => t.name));
for (const q of queries.slice(0, 50)) retriever.retrieve(q, { permitted });
// Single-shot wall time of each decision (what `switchboard eval` reports), then the per-query
// minimum over 5 repeats: on a shared VM the single-shot tail is dominated by the scheduler
// preempting the process, the minimum keeps each query's own cost (long queries stay slow).
const times: number[] = [];
const best: number[] = queries.map(() => Infinity);
for (let rep = 0; rep < 5; rep++) {
  queries.forEach((q, i) => {
    const t0 = performance.now();
    retriever.retrieve(q, { permitted });
    const ms = performance.now() - t0;
    if (rep === 0) times.push(ms);
    best[i] = Math.min(best[i] as number, ms);
  });
}
const at = (xs: number[], q: number): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3);
};
console.log(
  `\n${catalog.length}-target catalog: fit ${retriever.fitMs.toFixed(0)} ms, ${times.length} retrievals, ` +
    `p50 ${at(times, 0.5)} ms, p99 ${at(times, 0.99)} ms (single shot); per-query best of 5: ` +
    `p50 ${at(best, 0.5)} ms, p99 ${at(best, 0.99)} ms, max ${at(best, 1)} ms; ` +
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${availableParallelism()} CPUs`,
);

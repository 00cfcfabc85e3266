/**
 * Every number in docs/routing.md's results, from one script (`npm run bench:routing-docs`):
 * the visible suites through `switchboard eval --json` (production defaults), the 500-target
 * latency, 5-fold cross-validation and pseudo-out-of-scope on the training examples only (how the
 * defaults were chosen), and the scenario-derived tools suites.
 *
 *   node bench/routing-docs.ts [suites-dir]     markdown on stdout
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RoutingTarget } from '../src/routing/index.ts';
import {
  crossValidate,
  latency500,
  mean,
  pct,
  pseudoOutOfScope,
  range,
  suiteTable,
} from './routing-common.ts';
import { customerServiceRows } from './routing-cs.ts';
import { scenarioRows } from './routing-scenarios.ts';

const dir = resolve(process.argv[2] ?? join(import.meta.dirname, '../../shared/data/suites'));
const out = (line = ''): void => console.log(line);

out('### Visible suites (`switchboard eval <suite> --json`, production defaults)\n');
const { rows } = await suiteTable(dir);
rows.forEach((r) => out(r));
out(`\n${latency500(dir)}\n`);

const agentsSuites = ['banking77-dev.json', 'clinc150-val.json'].map(
  (f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string; targets: RoutingTarget[] },
);

out('### 5-fold cross-validation on the training examples (top-1 on held-out examples)\n');
out('| suite | fused, mean | fused, per fold | classifier alone, mean | classifier alone, per fold |');
out('|---|---|---|---|---|');
for (const s of agentsSuites) {
  const cv = crossValidate(s);
  out(
    `| ${s.name} | ${pct(mean(cv.fused))} | ${cv.fused.map((x) => pct(x)).join(' / ')} | ` +
      `${pct(mean(cv.classifier))} | ${cv.classifier.map((x) => pct(x)).join(' / ')} |`,
  );
}

const thresholds = [0.4, 0.5, 0.6];
out(
  '\n### Pseudo-out-of-scope on the training examples (abstain recall / false abstention, range over 5 folds)\n',
);
out(`| suite | ${thresholds.map((t) => `threshold ${t}${t === 0.5 ? ' (default)' : ''}`).join(' | ')} |`);
out(`|---|${thresholds.map(() => '---').join('|')}|`);
for (const s of agentsSuites) {
  const curve = pseudoOutOfScope(s, thresholds);
  out(
    `| ${s.name} | ${curve.map((folds) => `${range(folds.map((f) => f[0]))} / ${range(folds.map((f) => f[1]))}`).join(' | ')} |`,
  );
}

out('\n### Scenario-derived tools suites (pooled catalog of the 18 enterprise tools)\n');
scenarioRows().forEach((r) => out(r));

out('\n### Multi-step customer-service tasks (bench/routing-cs-tasks.json)\n');
customerServiceRows().forEach((r) => out(r));

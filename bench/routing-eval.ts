/**
 * Routing evaluation benchmark: runs `switchboard eval` (production defaults) on every suite in
 * the data directory and measures routing latency on a 500-target tool catalog.
 * Usage: node bench/routing-eval.ts [suites-dir]   (default ../shared/data/suites)
 * Every number of docs/routing.md, cross-validation included: bench/routing-docs.ts.
 */
import { join, resolve } from 'node:path';
import { latency500, suiteTable } from './routing-common.ts';

const dir = resolve(process.argv[2] ?? join(import.meta.dirname, '../../shared/data/suites'));
const { rows } = await suiteTable(dir);
console.log(rows.join('\n'));
console.log(`\n${latency500(dir)}`);

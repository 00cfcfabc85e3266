/**
 * Build a tools suite from the reference system's scenarios: each routed turn's request → the set
 * of tools that turn used (delegated runs included), over the pooled catalog of every enterprise
 * tool. It runs the scenario suite once with the offline model and reads what each turn did; turns
 * that used no tool (clarifying questions, escalations) are left out, because the suite scores the
 * tools a task needs. Failed scenarios contribute only the tools their turn was expected to call.
 *
 * A second suite scores whole tasks as the multi-step benchmark does: a scenario's first
 * request → every tool the scenario used, over all its turns.
 *
 * It also writes what the running system showed: per case, the tools shown at each model call,
 * which measures how much of the first-message gap retrieval at every step closes.
 *
 *   node bench/routing-scenario-suite.ts   (writes bench/routing-scenario-{suite,tasks,observed}.json)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEnterpriseSystem } from '../examples/enterprise/agents.ts';
import { loadScenarios, runScenarios } from '../examples/enterprise/scenario-suite.ts';
import { toolTarget, type RoutingTarget } from '../src/routing/index.ts';

/** One case's observation: the tools shown at each model call of the turn, and whether it passed. */
export interface ObservedCase {
  id: string;
  scenario: string;
  passed: boolean;
  shownPerModelCall: string[][];
  /** Tools in the order the turn called them (first attempts). */
  called: string[];
}

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(import.meta.dirname, 'routing-scenario-suite.json') },
    tasks: { type: 'string', default: join(import.meta.dirname, 'routing-scenario-tasks.json') },
    observed: { type: 'string', default: join(import.meta.dirname, 'routing-scenario-observed.json') },
  },
});

// The pooled catalog: every native tool of every enterprise agent, as the retriever sees it.
const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-tool-suite-'));
const ent = createEnterpriseSystem({ dataDir });
const targets: RoutingTarget[] = [];
for (const a of ent.agents) for (const t of a.tools) targets.push(toolTarget(t));
await ent.business.close();
rmSync(dataDir, { recursive: true, force: true });
const known = new Set(targets.map((t) => t.name));

const scenarios = loadScenarios();
const suite = await runScenarios();
const cases: { id: string; query: string; expected: string[] }[] = [];
const tasks: { id: string; query: string; expected: string[] }[] = [];
const observed: ObservedCase[] = [];
for (const [s, result] of suite.results.entries()) {
  const scenario = scenarios[s];
  if (!scenario || scenario.name !== result.name) throw new Error(`scenario order changed at ${s}`);
  for (const [t, turn] of scenario.turns.entries()) {
    const obs = result.turns[t];
    if (!obs) continue;
    const used = result.passed ? obs.tools : (turn.expect.tools ?? []);
    const expected = [...new Set(used)].filter((n) => known.has(n)).sort();
    if (expected.length === 0) continue;
    const id = `${scenario.name}#${t + 1}`;
    cases.push({ id, query: turn.input, expected });
    observed.push({
      id,
      scenario: scenario.name,
      passed: result.passed,
      shownPerModelCall: obs.shownPerModelCall,
      called: obs.tools.filter((n) => known.has(n)),
    });
  }
  const all = new Set(cases.filter((c) => c.id.startsWith(`${scenario.name}#`)).flatMap((c) => c.expected));
  const first = scenario.turns[0];
  if (all.size > 0 && first) tasks.push({ id: scenario.name, query: first.input, expected: [...all].sort() });
}

const suiteFile = (name: string, what: string, list: typeof cases) => ({
  format: 'switchboard-routing-suite/1',
  name,
  kind: 'tools',
  source: `examples/enterprise/scenarios: ${what} (offline model run); built by bench/routing-scenario-suite.ts`,
  license: 'Apache-2.0',
  targets,
  cases: list,
});
const write = (path: string, data: unknown) => writeFileSync(path, `${JSON.stringify(data, null, 1)}\n`);
write(
  values.out,
  suiteFile('enterprise-scenario-tools', 'each turn that used tools → the tools it used', cases),
);
write(
  values.tasks,
  suiteFile('enterprise-scenario-tasks', "a scenario's first request → every tool the scenario used", tasks),
);
write(values.observed, observed);
const multi = cases.filter((c) => c.expected.length > 1).length;
console.log(
  `${cases.length} cases (${multi} need more than one tool) from ${suite.results.length} scenarios ` +
    `(${suite.passed} passed), ${targets.length} tools → ${values.out}; ${tasks.length} tasks ` +
    `(${tasks.filter((t) => t.expected.length > 1).length} need more than one tool) → ${values.tasks}`,
);

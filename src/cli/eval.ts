/**
 * `switchboard eval <suite.json> [--k 1,3,5,10] [--json] [--config file]`: run a router (agents
 * suites) or tool retriever (tools suites) on a routing suite and report accuracy, abstention,
 * latency and fit time.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CompiledConfig } from '../config.ts';
import {
  evaluateSuite,
  suiteSchema,
  type EvalDetails,
  type EvalResult,
  type Suite,
} from '../routing/suite.ts';
import type { SuiteCatalog } from '../routing/suite.ts';

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

/** Render the human-readable report. */
export function formatEval(result: EvalResult, details: EvalDetails): string[] {
  const lines = [
    `suite ${result.suite} (${result.kind}): ${result.cases} cases, ${details.inScope} in scope, ${details.outOfScope} out of scope`,
  ];
  if (result.kind === 'agents') {
    lines.push(`top-1 accuracy (in scope)   ${pct(result.top1)}`);
    lines.push(
      `decided accuracy (in scope) ${pct(details.decidedAccuracy)}  (right agent and not escalated)`,
    );
  }
  const recall = Object.entries(result.recallAt)
    .map(([k, v]) => `R@${k} ${pct(v)}`)
    .join('  ');
  lines.push(`recall (in scope)           ${recall}`);
  lines.push(`abstention recall (oos)     ${pct(result.abstainRecall)}`);
  lines.push(`false abstention (in scope) ${pct(result.falseAbstainRate)}`);
  lines.push(`latency                     p50 ${result.latencyMs.p50} ms  p99 ${result.latencyMs.p99} ms`);
  lines.push(`fit                         ${result.fitMs} ms`);
  return lines;
}

function parseKs(raw: string): number[] | string {
  const ks = raw.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const k of ks) {
    if (!/^[1-9]\d*$/.test(k)) return `--k must be a comma-separated list of positive integers, got "${raw}"`;
    out.push(Number(k));
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

export interface EvalOptions {
  suite: string;
  k: string;
  json: boolean;
  /** Tools suites on a configuration: whose retriever settings to use. */
  agent?: string;
}

/**
 * Run the eval command. Without a configuration, the production defaults are fitted on the suite's
 * own catalog. With one, agents suites are scored on the configured router over the configured
 * agents (every expected name must be one of them), tools suites with the configured retriever
 * threshold. Returns the exit code: 0 on success, 2 on bad usage, 1 on an unreadable or malformed
 * suite (the message names the bad field).
 */
export async function runEval(
  args: EvalOptions | string[],
  out: (line: string) => void,
  config: CompiledConfig | null = null,
): Promise<number> {
  const options = Array.isArray(args) ? parseEvalArgs(args, out) : args;
  if (options === null) return 2;
  const ks = parseKs(options.k);
  if (typeof ks === 'string') {
    out(`error: ${ks}`);
    return 2;
  }
  const file = options.suite;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    out(`error: cannot read suite ${file}: ${(err as Error).message}`);
    return 1;
  }
  const checked = suiteSchema.safeParse(raw);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    out(`error: malformed suite ${file}: field ${field}: ${issue?.message ?? 'invalid'}`);
    return 1;
  }
  let catalog: SuiteCatalog | undefined;
  if (config) {
    const made = await configuredCatalog(checked.data, config, options.agent);
    if (typeof made === 'string') {
      out(`error: ${made}`);
      return 2;
    }
    catalog = made;
  }
  const { result, details } = evaluateSuite(checked.data, ks, undefined, catalog);
  if (options.json) out(JSON.stringify(result));
  else for (const line of formatEval(result, details)) out(line);
  return 0;
}

const USAGE = 'usage: switchboard eval <suite.json> [--k 1,3,5,10] [--json] [--config file]';

/** Parse `eval`'s arguments (for callers without commander); null after printing a usage error. */
function parseEvalArgs(argv: string[], out: (line: string) => void): EvalOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { k: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
  } catch (err) {
    out(`error: ${(err as Error).message.split('\n')[0] ?? 'bad arguments'}. ${USAGE}`);
    return null;
  }
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length > 0) {
    out(`error: expected exactly one suite file. ${USAGE}`);
    return null;
  }
  return { suite: file, k: parsed.values.k ?? '1,3,5,10', json: parsed.values.json };
}

/** The configured router (agents suites) or retriever settings (tools suites) as a suite catalog. */
async function configuredCatalog(
  suite: Suite,
  config: CompiledConfig,
  agentName: string | undefined,
): Promise<SuiteCatalog | string> {
  const { openProject } = await import('../project.ts');
  const { createMemoryStore } = await import('../store/memory/store.ts');
  // The agents are built as the running system builds them; the store is a throwaway one.
  const project = await openProject(config, { workers: false, store: createMemoryStore() });
  try {
    if (suite.kind === 'agents') {
      const names = new Set(project.agents.map((a) => a.name));
      const foreign = [...new Set(suite.cases.flatMap((c) => c.expected))].filter((n) => !names.has(n));
      if (foreign.length)
        return `the suite expects agents the configuration does not define: ${foreign.join(', ')} (run without --config to score the suite's own catalog)`;
      const router = project.system.routing.router;
      if (!router)
        return 'the configuration has no router (one agent, a defaultAgent, or routing.router: false)';
      return { kind: 'agents', router };
    }
    if (agentName && !project.agents.some((a) => a.name === agentName))
      return `--agent: unknown agent "${agentName}"`;
    return {
      kind: 'tools',
      options: config.routing.toolThreshold !== undefined ? { threshold: config.routing.toolThreshold } : {},
    };
  } finally {
    await project.close();
  }
}

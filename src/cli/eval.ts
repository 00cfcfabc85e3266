/**
 * `switchboard eval <suite.json> [--k 1,3,5,10] [--json]`: run the production router (agents
 * suites) or tool retriever (tools suites), with its defaults, on a routing suite and report
 * accuracy, abstention, latency and fit time. No option changes scoring.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { evaluateSuite, suiteSchema, type EvalDetails, type EvalResult } from '../routing/index.ts';

const USAGE = 'usage: switchboard eval <suite.json> [--k 1,3,5,10] [--json]';

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

/**
 * Run the eval command. Returns the exit code: 0 on success, 2 on bad usage, 1 on an unreadable
 * or malformed suite (the message names the bad field).
 */
export async function runEval(argv: string[], out: (line: string) => void): Promise<number> {
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
    return 2;
  }
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length > 0) {
    out(`error: expected exactly one suite file. ${USAGE}`);
    return 2;
  }
  const ks = parseKs(parsed.values.k ?? '1,3,5,10');
  if (typeof ks === 'string') {
    out(`error: ${ks}`);
    return 2;
  }
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
  const { result, details } = evaluateSuite(checked.data, ks);
  if (parsed.values.json) out(JSON.stringify(result));
  else for (const line of formatEval(result, details)) out(line);
  return 0;
}

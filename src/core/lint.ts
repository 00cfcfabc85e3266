/**
 * The tool-budget lint: holds agents to a narrow shape (one responsibility, few tools, one
 * business domain) because a model's tool selection degrades as its decision space grows.
 * Pure: it reads definitions and returns findings.
 */
import type { AgentDefinition } from './agent.ts';
import type { AnyTool } from './tool.ts';

/** One problem the lint found, with the agent, the rule, and how to fix it. */
export interface LintFinding {
  agent: string;
  rule: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  fix: string;
}

/** Options of {@link lintAgents}. */
export interface LintOptions {
  /** True when a system-level approval policy covers this tool (e.g. "any payment"). */
  approvalPolicyFor?: (tool: AnyTool) => boolean;
  /** Cosine similarity of description terms at or above which two tools are near-duplicates. */
  duplicateSimilarity?: number;
}

/** The rules, by id, for documentation and tests. */
export const LINT_RULES = [
  'missing-responsibility',
  'tool-budget',
  'tool-retrieval-required',
  'too-many-tools',
  'mixed-domains',
  'near-duplicate-tools',
  'financial-without-approval',
  'unknown-delegate',
  'delegation-cycle',
] as const;

export type LintRule = (typeof LINT_RULES)[number];

const IDEAL_MAX = 5;
const WARN_FROM = 6;
const RETRIEVAL_FROM = 10;
const ERROR_FROM = 15;
const DEFAULT_DUPLICATE_SIMILARITY = 0.8;

const STOP = new Set(
  'a an the and or of to in on at by for with from into is are be this that it its as any all given specified'.split(
    ' ',
  ),
);

function termVector(text: string): Map<string, number> {
  const v = new Map<string, number>();
  for (const raw of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    if (STOP.has(raw)) continue;
    const w = raw.length > 3 && raw.endsWith('s') && !raw.endsWith('ss') ? raw.slice(0, -1) : raw;
    v.set(w, (v.get(w) ?? 0) + 1);
  }
  return v;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, x] of a) {
    na += x * x;
    dot += x * (b.get(k) ?? 0);
  }
  for (const y of b.values()) nb += y * y;
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** Find delegation cycles; each cycle is reported once, starting from its smallest agent name. */
function delegationCycles(agents: readonly AgentDefinition[]): string[][] {
  const byName = new Map(agents.map((a) => [a.name, a]));
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of byName.get(name)?.delegates ?? []) {
      if (!byName.has(next)) continue;
      const s = state.get(next);
      if (s === 'visiting') {
        const cycle = stack.slice(stack.indexOf(next));
        const min = cycle.reduce((m, n) => (n < m ? n : m));
        const at = cycle.indexOf(min);
        const canonical = [...cycle.slice(at), ...cycle.slice(0, at)];
        cycles.set(canonical.join('>'), canonical);
      } else if (s === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const a of [...agents].sort((x, y) => (x.name < y.name ? -1 : 1)))
    if (!state.has(a.name)) visit(a.name);
  return [...cycles.values()];
}

/**
 * Lint agent definitions against the tool budget and governance rules.
 * @example
 * const findings = lintAgents(system.agents, { approvalPolicyFor: (t) => policies.covers(t) });
 * for (const f of findings) console.log(`${f.severity} ${f.agent} ${f.rule}: ${f.message}`);
 */
export function lintAgents(agents: AgentDefinition[], options: LintOptions = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const names = new Set(agents.map((a) => a.name));
  const threshold = options.duplicateSimilarity ?? DEFAULT_DUPLICATE_SIMILARITY;
  for (const agent of agents) {
    const add = (rule: LintRule, severity: LintFinding['severity'], message: string, fix: string): void => {
      findings.push({ agent: agent.name, rule, severity, message, fix });
    };
    if (!agent.responsibility || !agent.responsibility.trim()) {
      add(
        'missing-responsibility',
        'error',
        'the agent declares no responsibility, so routing and reviewers cannot tell what it is for',
        'give it one sentence naming its single business responsibility',
      );
    }
    const n = agent.tools.length;
    const retrieval = agent.toolRetrieval?.enabled === true;
    if (n >= ERROR_FROM && !agent.allowManyTools) {
      add(
        'too-many-tools',
        'error',
        `${n} tools (${ERROR_FROM} or more): selection accuracy falls as the tool list grows`,
        'split the agent by responsibility, or set allowManyTools: true with tool retrieval enabled',
      );
    } else if (n >= WARN_FROM) {
      add(
        'tool-budget',
        'warning',
        `${n} tools; ${IDEAL_MAX} or fewer is ideal`,
        'move tools that serve another responsibility to a specialized agent',
      );
    }
    if (n >= RETRIEVAL_FROM && !retrieval) {
      add(
        'tool-retrieval-required',
        'error',
        `${n} tools (${RETRIEVAL_FROM} or more) without tool retrieval: every model call would see all of them`,
        'set toolRetrieval: { enabled: true, topK: 5, pinned: [] } or split the agent',
      );
    }
    const domains = [...new Set(agent.tools.map((t) => t.domain).filter((d): d is string => !!d))].sort();
    if (domains.length > 1) {
      add(
        'mixed-domains',
        'warning',
        `tools from ${domains.length} business domains (${domains.join(', ')})`,
        'keep one domain per agent and delegate to agents that own the others',
      );
    }
    const vectors = agent.tools.map((t) => termVector(`${t.description}`));
    for (let i = 0; i < agent.tools.length; i++) {
      for (let j = i + 1; j < agent.tools.length; j++) {
        const sim = cosine(vectors[i] as Map<string, number>, vectors[j] as Map<string, number>);
        if (sim >= threshold) {
          const a = (agent.tools[i] as AnyTool).name;
          const b = (agent.tools[j] as AnyTool).name;
          add(
            'near-duplicate-tools',
            'warning',
            `tools ${a} and ${b} have near-duplicate descriptions (similarity ${sim.toFixed(2)}), which confuses selection`,
            `merge them, or say in each description when to use it instead of the other`,
          );
        }
      }
    }
    for (const tool of agent.tools) {
      if (tool.risk !== 'financial') continue;
      if (tool.requiresApproval || options.approvalPolicyFor?.(tool)) continue;
      add(
        'financial-without-approval',
        'error',
        `financial tool ${tool.name} has no approval policy: it would move money without a human`,
        `add requiresApproval to ${tool.name} or a system policy that covers it`,
      );
    }
    for (const d of agent.delegates) {
      if (names.has(d)) continue;
      add(
        'unknown-delegate',
        'error',
        `delegates to unknown agent "${d}"`,
        `define an agent named ${d} or remove it from delegates`,
      );
    }
  }
  for (const cycle of delegationCycles(agents)) {
    findings.push({
      agent: cycle[0] as string,
      rule: 'delegation-cycle',
      severity: 'error',
      message: `delegation cycle ${[...cycle, cycle[0]].join(' → ')}`,
      fix: 'remove one delegate edge so delegation flows one way',
    });
  }
  return findings;
}

const ORDER = { error: 0, warning: 1, info: 2 } as const;

/** One finding per line (errors first), each with its fix, then a summary line. */
export function formatLint(findings: readonly LintFinding[]): string {
  if (findings.length === 0) return 'lint: no findings';
  const sorted = [...findings].sort(
    (a, b) =>
      ORDER[a.severity] - ORDER[b.severity] || a.agent.localeCompare(b.agent) || a.rule.localeCompare(b.rule),
  );
  const lines = sorted.map(
    (f) => `${f.severity.padEnd(7)} ${f.agent}  ${f.rule}: ${f.message}\n        fix: ${f.fix}`,
  );
  const count = (s: LintFinding['severity']): number => findings.filter((f) => f.severity === s).length;
  lines.push(`lint: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info`);
  return lines.join('\n');
}

/** 1 when any finding is an error, else 0. */
export function lintExitCode(findings: readonly LintFinding[]): number {
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}

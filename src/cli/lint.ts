/** Output of `switchboard lint`: findings as lines, and the exit code they imply. */
import type { LintFinding } from '../core/lint.ts';

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

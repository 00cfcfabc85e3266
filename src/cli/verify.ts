/** `switchboard verify`: every run's chain and head, with a line per problem and a non-zero exit. */
import type { ChainProblem } from '../core/audit.ts';
import type { System } from '../system.ts';

const LABEL: Record<ChainProblem, string> = {
  altered: 'ALTERED',
  'broken-link': 'ALTERED',
  'unknown-key': 'UNKNOWN KEY',
  unkeyed: 'UNKEYED',
  truncated: 'TRUNCATED',
  deleted: 'DELETED',
  'no-head': 'NO HEAD',
  'head-mismatch': 'HEAD MISMATCH',
};

/** Verify one run or all (journals and heads alike, so a run whose events were deleted is found); returns the exit code. */
export async function verifyCommand(
  system: System,
  opts: { runId?: string; all?: boolean; allowUnkeyed?: boolean },
  print: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  const journal = system.store.journal;
  const ids = opts.all
    ? [...new Set([...(await journal.runIds()), ...(await journal.heads()).map((h) => h.runId)])].sort()
    : [opts.runId ?? ''];
  const counts = new Map<string, number>();
  for (const id of ids) {
    const v = await system.verify(id, opts.allowUnkeyed ? { allowUnkeyed: true } : {});
    if (v.ok) {
      if (!opts.all) print(`${id}: ok (${v.events} events)`);
      continue;
    }
    const label = LABEL[v.kind];
    counts.set(label, (counts.get(label) ?? 0) + 1);
    print(`${id}: ${label} at event #${v.seq}${v.type ? ` (${v.type})` : ''}: ${v.problem}`);
  }
  const bad = [...counts.values()].reduce((a, b) => a + b, 0);
  if (opts.all) {
    const detail = [...counts].map(([label, n]) => `${n} ${label.toLowerCase()}`).join(', ');
    print(
      `verified ${ids.length} runs: ${ids.length - bad} ok, ${bad} failed${detail ? ` (${detail})` : ''}`,
    );
  }
  return bad > 0 ? 1 : 0;
}

/** Human-readable replay reports, with a side-by-side diff at the first divergence. */
import { firstDivergence, replayTotals, type Divergence, type RunReplay } from './replay.ts';

const show = (v: unknown): string[] =>
  (typeof v === 'string' ? v : (JSON.stringify(v, null, 2) ?? 'undefined')).split('\n');

/** Two columns, recorded on the left and replayed on the right. */
export function sideBySide(recorded: unknown, replayed: unknown, width = 48): string {
  const left = show(recorded);
  const right = show(replayed);
  const rows = [`${'recorded'.padEnd(width)} │ replayed`, `${'─'.repeat(width)}─┼─${'─'.repeat(width)}`];
  for (let k = 0; k < Math.max(left.length, right.length); k++) {
    const l = left[k] ?? '';
    const r = right[k] ?? '';
    const mark = l === r ? ' ' : '≠';
    rows.push(`${(l.length > width ? `${l.slice(0, width - 1)}…` : l).padEnd(width)} ${mark} ${r}`);
  }
  return rows.join('\n');
}

export function formatDivergence(d: Divergence): string {
  return [
    `first divergence in run ${d.runId} at seq ${d.seq} (step ${d.step}, agent ${d.agent ?? '-'}, ${d.kind}): ${d.message}`,
    sideBySide(d.recorded, d.replayed),
  ].join('\n');
}

/** The whole report: per-run lines, totals, and the diff at the first divergence. */
export function formatReplay(r: RunReplay): string {
  const lines: string[] = [];
  const walk = (x: RunReplay, indent: string): void => {
    lines.push(
      `${indent}${x.runId} (${x.agent ?? '-'}, ${x.status}): ${x.eventsReplayed}/${x.eventsTotal} events, ${x.decisions} decisions, ${x.modelOutputsServed} model outputs and ${x.toolOutputsServed} tool outputs served from the journal${x.modelCallsMade ? `, ${x.modelCallsMade} model calls made` : ''}${x.divergence ? ' — DIVERGED' : ' — matches'}`,
    );
    for (const n of x.notes) lines.push(`${indent}  note: ${n}`);
    for (const c of x.children) walk(c, `${indent}  └ `);
  };
  walk(r, '');
  const t = replayTotals(r);
  const d = firstDivergence(r);
  lines.push(
    `${t.runs} run(s), ${t.decisions} decisions checked, ${t.divergences} divergence(s), ${t.modelCallsMade} model calls, 0 tool executions`,
  );
  if (d) lines.push('', formatDivergence(d));
  return lines.join('\n');
}

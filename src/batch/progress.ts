/**
 * How a batch's progress is shown: a bar redrawn in place on a terminal, plain lines elsewhere
 * (at most one a second, so a log stays readable). Rate and ETA come from records settled in
 * this process since it started (a resumed batch does not count what an earlier run did).
 */
import type { BatchProgress } from './driver.ts';

const WIDTH = 24;

const seconds = (s: number): string =>
  !Number.isFinite(s) ? '?' : s < 90 ? `${Math.ceil(s)}s` : `${Math.floor(s / 60)}m${Math.ceil(s % 60)}s`;

/** One line: done/total, rate, ETA, failures so far (and waiting records when there are some). */
export function progressLine(p: BatchProgress, rate: number, bar: boolean): string {
  const left = p.total - p.done - p.waiting;
  const eta = left === 0 ? 0 : rate > 0 ? left / rate : Infinity;
  const filled = p.total === 0 ? WIDTH : Math.round((WIDTH * p.done) / p.total);
  const head = bar ? `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ` : `batch ${p.batchId}: `;
  return (
    `${head}${p.done}/${p.total} done, ${rate.toFixed(1)}/s, ETA ${seconds(eta)}, ${p.failed} failed` +
    (p.waiting ? `, ${p.waiting} waiting` : '')
  );
}

/** A progress reporter writing to `out`; `tty` draws a bar in place. `end()` finishes the line. */
export function progressReporter(
  out: { write(s: string): unknown },
  tty: boolean,
  now: () => number = Date.now,
): { update(p: BatchProgress): void; end(): void } {
  const started = now();
  let first: number | null = null;
  let lastLine = 0;
  let printed = '';
  let last: BatchProgress | null = null;
  const rateOf = (p: BatchProgress): number => {
    first ??= p.done;
    const s = (now() - started) / 1000;
    return s > 0 ? (p.done - first) / s : 0;
  };
  return {
    update(p) {
      const before = last;
      last = p;
      if (tty) return void out.write(`\r${progressLine(p, rateOf(p), true)}\u001b[K`);
      const changed = !before || before.done !== p.done || before.waiting !== p.waiting;
      if (changed && now() - lastLine >= 1000) {
        lastLine = now();
        printed = progressLine(p, rateOf(p), false);
        out.write(`${printed}\n`);
      }
    },
    end() {
      if (!last) return;
      if (tty) return void out.write(`\r${progressLine(last, rateOf(last), true)}\u001b[K\n`);
      const line = progressLine(last, rateOf(last), false);
      // The same counts were printed last: say nothing twice.
      if (line.replace(/, [\d.]+\/s, ETA \S+/, '') !== printed.replace(/, [\d.]+\/s, ETA \S+/, ''))
        out.write(`${line}\n`);
    },
  };
}

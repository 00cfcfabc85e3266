/**
 * Issue 19 batch progress: on a terminal a bar redrawn in place (done/total, rate, ETA, failures
 * so far); elsewhere plain lines, at most one a second, never the same counts twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchProgress } from '../../src/batch/driver.ts';
import { progressLine, progressReporter } from '../../src/batch/progress.ts';

const at = (done: number, failed = 0, waiting = 0): BatchProgress => ({
  batchId: 'batch_x',
  total: 100,
  done,
  failed,
  waiting,
  inFlight: 4,
  limit: 8,
});

describe('issue 19 batch: progress', () => {
  it('a line says done/total, rate, ETA and failures so far', () => {
    assert.equal(progressLine(at(40, 2), 10, false), 'batch batch_x: 40/100 done, 10.0/s, ETA 6s, 2 failed');
    assert.equal(
      progressLine(at(50, 0, 3), 0.5, true),
      '[############............] 50/100 done, 0.5/s, ETA 1m34s, 0 failed, 3 waiting',
    );
    assert.equal(progressLine(at(10), 0, false), 'batch batch_x: 10/100 done, 0.0/s, ETA ?, 0 failed');
  });

  it('on a terminal the bar is redrawn in place; elsewhere one plain line a second at most', () => {
    let now = 0;
    const tty: string[] = [];
    const bar = progressReporter({ write: (s: string) => tty.push(s) }, true, () => now);
    bar.update(at(0));
    now = 1000;
    bar.update(at(10));
    bar.end();
    assert.ok(tty.every((s) => s.startsWith('\r[')));
    assert.match(tty[1]!, /10\/100 done, 10\.0\/s, ETA 9s/);
    assert.ok(tty.at(-1)!.endsWith('\n'));

    now = 0;
    const plain: string[] = [];
    const lines = progressReporter({ write: (s: string) => plain.push(s) }, false, () => now);
    now = 1000;
    lines.update(at(0));
    now = 1200;
    lines.update(at(5)); // within the second: not printed
    now = 2100;
    lines.update(at(20, 1));
    lines.end(); // the same counts as the last line: nothing more
    assert.deepEqual(
      plain.map((s) => s.replace(/, [\d.]+\/s, ETA \S+/, '')),
      ['batch batch_x: 0/100 done 0 failed\n', 'batch batch_x: 20/100 done 1 failed\n'],
    );
  });
});

// The serving process's idle compaction: one collection per busy → quiet transition, never under
// load, never while it stays quiet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exposeGc, startIdleCompaction } from '../../src/cli/idle-gc.ts';

/** Keeps the event loop busy for `ms` in slices, so the watcher's timer still fires in between. */
async function busy(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const slice = performance.now() + 10;
    while (performance.now() < slice) {
      /* spin */
    }
    await new Promise((r) => setImmediate(r));
  }
}

test('collects once after work is followed by a quiet window, and not again until more work', async () => {
  let collections = 0;
  const stop = startIdleCompaction({ windowMs: 50, quietBelow: 0.3, gc: () => void collections++ });
  try {
    await sleep(300);
    collections = 0; // the test runner's own start-up may count as work
    await busy(300);
    assert.equal(collections, 0, 'never while the loop is busy');
    await sleep(300);
    assert.equal(collections, 1, 'one collection once the work stopped');
    await sleep(300);
    assert.equal(collections, 1, 'staying quiet does not collect again');
    await busy(300);
    await sleep(300);
    assert.equal(collections, 2, 'the next busy → quiet transition collects once more');
  } finally {
    stop();
  }
});

test('V8 gc is found without --expose-gc and gives garbage back', () => {
  const gc = exposeGc();
  assert.ok(gc, 'gc exposed at run time');
  // 40 MB on the heap, unreachable once the function returns.
  const held = ((): number => {
    const garbage = new Array<number>(5_000_000).fill(1.5);
    assert.equal(garbage.length, 5_000_000);
    return process.memoryUsage().heapUsed;
  })();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  assert.ok(
    process.memoryUsage().heapUsed < held - 20e6,
    `heap ${process.memoryUsage().heapUsed} after the collection, ${held} before`,
  );
});

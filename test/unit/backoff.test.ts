/**
 * core/backoff.ts: the one backoff formula — doubling (or `factor`) from the first delay, capped,
 * half fixed and half jittered by default, with the random draw passed in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoff } from '../../src/core/backoff.ts';
import { backoffMs } from '../../src/store/postgres/errors.ts';

const policy = { initialDelayMs: 100, maxDelayMs: 1000 };

describe('backoff', () => {
  it('doubles from the first delay per retry and stops at the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6].map((n) => backoff(n, policy, 0.999_999_9));
    assert.deepEqual(ceilings, [100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps half of each delay fixed and jitters the other half with the given draw', () => {
    assert.equal(backoff(3, policy, 0), 200);
    assert.equal(backoff(3, policy, 0.5), 300);
    assert.equal(backoff(3, policy, 0.25), 250);
  });

  it('grows by `factor` and jitters the `jitter` share of the delay', () => {
    assert.equal(backoff(3, { ...policy, factor: 3 }, 0), 450);
    assert.equal(backoff(2, { ...policy, jitter: 1 }, 0), 0);
    assert.equal(backoff(2, { ...policy, jitter: 0 }, 0.9), 200);
  });

  it('counts attempt 0 as the first retry and rounds to whole milliseconds', () => {
    assert.equal(backoff(0, policy, 0), backoff(1, policy, 0));
    assert.equal(backoff(1, { initialDelayMs: 3, maxDelayMs: 10 }, 1 / 3), 2);
  });

  it('is the formula the PostgreSQL store retries with (attempts counted from 0 there)', () => {
    const retry = { attempts: 5, baseMs: 50, maxMs: 2000 };
    for (const n of [0, 1, 2, 7])
      assert.equal(
        backoffMs(retry, n, () => 0.4),
        backoff(n + 1, { initialDelayMs: 50, maxDelayMs: 2000 }, 0.4),
      );
    assert.equal(
      backoffMs(retry, 2, () => 0),
      100,
    );
  });
});

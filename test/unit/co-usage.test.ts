/** routing.coUsage's learner: what it reads from the store, one refresh at a time, errors reported. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JournalEvent } from '../../src/core/events.ts';
import { createCoUsageLearner } from '../../src/runtime/co-usage.ts';
import type { Store } from '../../src/store/ports.ts';

const event = (runId: string, seq: number, type: string, data: Record<string, unknown>) =>
  ({ runId, seq, at: seq, v: 1, type, data }) as unknown as JournalEvent;

/** Two completed runs that used get_weather then send_sms; counts the store reads. */
function storeOf(fail = false) {
  const reads = { list: 0, journal: 0 };
  const journals = new Map(
    ['r1', 'r2'].map((id) => [
      id,
      [
        event(id, 1, 'tool.started', { callId: 'a', tool: 'get_weather', args: {}, attempt: 1 }),
        event(id, 2, 'tool.started', { callId: 'b', tool: 'send_sms', args: {}, attempt: 1 }),
        event(id, 3, 'run.completed', { output: 'ok' }),
      ],
    ]),
  );
  const store = {
    runs: {
      list: async (q: { status?: string; limit?: number }) => {
        reads.list++;
        if (fail) throw new Error('store down: postgres://app:hunter2@db/prod');
        assert.deepEqual(q, { status: 'completed', limit: 50 });
        await new Promise((r) => setTimeout(r, 5));
        return [...journals.keys()].map((runId) => ({ runId }));
      },
    },
    journal: {
      read: (runId: string) => {
        reads.journal++;
        return Promise.resolve(journals.get(runId) ?? []);
      },
    },
  } as unknown as Store;
  return { store, reads };
}

void test('learns P(companion | tool) from the most recent completed runs; one refresh at a time', async () => {
  const { store, reads } = storeOf();
  const learner = createCoUsageLearner(store, { runs: 50, refreshMs: 60_000 });
  assert.equal(learner.priors(), undefined, 'nothing before the first refresh');
  await Promise.all([learner.refresh(), learner.refresh(), learner.refresh()]);
  assert.equal(reads.list, 1, 'concurrent refreshes share one read');
  assert.equal(reads.journal, 2);
  assert.deepEqual(learner.priors(), { get_weather: { send_sms: 1 }, send_sms: { get_weather: 1 } });
  await learner.start((e) => assert.fail(String(e)));
  assert.equal(reads.list, 2, 'start learns once at once');
  assert.equal(reads.journal, 2, 'runs already learned from are not read again');
  assert.deepEqual(learner.priors(), { get_weather: { send_sms: 1 }, send_sms: { get_weather: 1 } });
  learner.stop();
});

void test('a store error at start is reported, not thrown, and leaves no priors', async () => {
  const { store } = storeOf(true);
  const errors: unknown[] = [];
  const learner = createCoUsageLearner(store, { runs: 50 });
  await learner.start((e) => errors.push(e));
  learner.stop();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /store down/);
  assert.equal(learner.priors(), undefined);
});

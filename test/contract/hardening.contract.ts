/**
 * Store contract for hardening items: closed journals (#12), erasure (#4), run heads for tamper
 * evidence (#15). Same tests on every adapter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyChain } from '../../src/core/audit.ts';
import { JournalClosedError } from '../../src/core/errors.ts';
import { event } from '../../src/core/events.ts';
import { redactApproval } from '../../src/memory/erasure.ts';
import type { ApprovalRow, Store } from '../../src/store/ports.ts';
import type { ManualClock } from '../../src/testing/clock.ts';
import { submittedEvent } from '../events.ts';

type WithStore = (fn: (store: Store, clock: ManualClock) => Promise<void>) => Promise<void>;

const submitted = submittedEvent();
const totals = {
  steps: 0,
  modelCalls: 0,
  toolCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  durationMs: 0,
};
const completed = event('run.completed', { output: 'done', totals });
const progress = (message: string) => event('progress', { message });
const types = async (store: Store, runId: string) => (await store.journal.read(runId)).map((e) => e.type);

export function hardeningContract(adapter: string, withStore: WithStore): void {
  describe(`${adapter} store: closed journals`, () => {
    for (const closing of [
      completed,
      event('run.failed', { error: { name: 'Error', code: 'x', message: 'x' }, totals }),
      event('run.cancelled', { reason: 'r', by: 'op', totals }),
    ]) {
      it(`hardening #12: nothing is appended after ${closing.type}, at a seq or at the tail`, () =>
        withStore(async (store) => {
          await store.journal.append('r1', 1, [submitted, closing]);
          await assert.rejects(store.journal.append('r1', 3, [progress('late')]), JournalClosedError);
          const refused = event('approval.refused', {
            approvalId: 'ap',
            by: 'bob',
            reason: 'already approved',
          });
          const tail = await store.commit({
            appends: [{ runId: 'r1', expectedSeq: 'tail', events: [refused] }],
          });
          assert.deepEqual(tail.events, []);
          assert.deepEqual(await types(store, 'r1'), ['run.submitted', closing.type]);
        }));
    }

    it('hardening #12: a refused append fails its whole commit', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted, completed]);
        await assert.rejects(
          store.commit({
            appends: [
              { runId: 'r2', expectedSeq: 1, events: [submitted] },
              { runId: 'r1', expectedSeq: 3, events: [progress('late')] },
            ],
            upsertTasks: [{ runId: 'r2', queue: 'q', readyAt: 0 }],
          }),
          JournalClosedError,
        );
        assert.deepEqual(await store.journal.read('r2'), []);
        assert.equal(await store.queue.depth('q'), 0);
      }));

    it('hardening #12: events after a closing event in the same append are refused', () =>
      withStore(async (store) => {
        await assert.rejects(
          store.journal.append('r1', 1, [submitted, completed, progress('after')]),
          JournalClosedError,
        );
        assert.deepEqual(await store.journal.read('r1'), []);
      }));

    it('hardening #12: a closed journal still takes the erasure record, and stays closed after it', () =>
      withStore(async (store) => {
        await store.journal.append('r1', 1, [submitted, completed]);
        const marker = event('run.redacted', { by: 'op', reason: 'forget actor', events: 2 });
        await store.commit({ appends: [{ runId: 'r1', expectedSeq: 'tail', events: [marker] }] });
        await assert.rejects(store.journal.append('r1', 4, [progress('late')]), JournalClosedError);
        assert.deepEqual(await types(store, 'r1'), ['run.submitted', 'run.completed', 'run.redacted']);
      }));

    it('hardening #12: an escalated run is not closed (people reopen or close it)', () =>
      withStore(async (store) => {
        const escalated = event('run.escalated', { by: 'agent', summary: 's', reason: 'r' });
        await store.journal.append('r1', 1, [submitted, escalated]);
        await store.journal.append('r1', 3, [event('run.reopened', { by: 'op' }), completed]);
        await assert.rejects(store.journal.append('r1', 5, [progress('late')]), JournalClosedError);
      }));
  });
  describe(`${adapter} store: erasure reaches every table`, () => {
    it('hardening #4: an approval upsert replaces the stored row, so erasure removes args, digest, reasons, comment', () =>
      withStore(async (store, clock) => {
        const row: ApprovalRow = {
          approvalId: 'ap1',
          runId: 'r1',
          callId: 'c1',
          tool: 'refund',
          agent: 'commerce',
          args: { orderId: 'ORD-10005', amount: 250 },
          argsDigest: 'a'.repeat(64),
          reasons: ['refund of $250 on ORD-10005 is over the $100 limit'],
          requestedBy: 'eve',
          requestedAt: clock.now(),
          expiresAt: clock.now() + 1000,
          status: 'pending',
          approver: null,
          comment: null,
          decidedAt: null,
        };
        await store.commit({ approvals: [row] });
        const decided = {
          ...row,
          status: 'approved' as const,
          approver: 'alice',
          comment: 'ok ORD-10005',
          decidedAt: 5,
        };
        await store.commit({ approvals: [decided] });
        await store.commit({ approvals: [redactApproval(decided)] });
        const after = await store.approvals.get('ap1');
        assert.doesNotMatch(JSON.stringify(after), /ORD-10005|a{64}/);
        assert.deepEqual(after, redactApproval(decided));
        // Kept: the decision, who asked, who decided, and when.
        assert.equal(after?.status, 'approved');
        assert.equal(after?.approver, 'alice');
        assert.equal(after?.decidedAt, 5);
        assert.equal(after?.requestedBy, 'eve');
        assert.doesNotMatch(JSON.stringify(await store.approvals.list({})), /ORD-10005/);
      }));

    it('hardening #4: dropDedup deletes the client-message keys that point at the given runs', () =>
      withStore(async (store, clock) => {
        const expiresAt = clock.now() + 60_000;
        await store.commit({ dedup: { key: 'eve\u0000s\u0000msg-1', runId: 'r1', expiresAt } });
        await store.commit({ dedup: { key: 'bob\u0000s\u0000msg-1', runId: 'r2', expiresAt } });
        await store.commit({ dropDedup: ['r1'] });
        assert.equal(await store.runs.dedup('eve\u0000s\u0000msg-1', clock.now()), null);
        assert.equal(await store.runs.dedup('bob\u0000s\u0000msg-1', clock.now()), 'r2');
      }));
  });
  describe(`${adapter} store: run heads`, () => {
    it('hardening #15: every append and rewrite moves the run head in the same commit; verify compares them', () =>
      withStore(async (store) => {
        assert.equal(await store.journal.head('r1'), null);
        await store.journal.append('r1', 1, [submitted, progress('a')]);
        await store.journal.append('r2', 1, [submitted]);
        await store.journal.append('r1', 3, [progress('b')]);
        await assert.rejects(store.journal.append('r1', 9, [progress('lost')]));
        const stored = await store.journal.readStored('r1');
        const head = await store.journal.head('r1');
        assert.deepEqual([head?.seq, head?.hash], [3, stored[2]?.hash]);
        assert.deepEqual(verifyChain(stored, { chain: store.chain, head }), { ok: true, events: 3 });
        // The head says where the run ends: the first two events alone are a truncated journal.
        assert.equal(verifyChain(stored.slice(0, 2), { chain: store.chain, head }).ok, false);
        assert.deepEqual((await store.journal.heads()).map((h) => [h.runId, h.seq]).sort(), [
          ['r1', 3],
          ['r2', 1],
        ]);
        const events = await store.journal.read('r1');
        await store.journal.rewrite(
          'r1',
          events.map((e) => (e.type === 'progress' ? { ...e, data: { message: 'x' } } : e)),
        );
        const after = await store.journal.readStored('r1');
        const rebased = await store.journal.head('r1');
        assert.equal(rebased?.hash, after[2]?.hash);
        assert.deepEqual(verifyChain(after, { chain: store.chain, head: rebased }), { ok: true, events: 3 });
      }));
  });
}

/**
 * Adversarial text on every port of the store, the same on every adapter: NUL, lone surrogates,
 * invalid UTF-8 (decoded, and as lone surrogates inside JSON), backslash escapes that look like the
 * PostgreSQL escaping, 1 MB strings, RTL text and emoji.
 *
 * "Identical" is the stores' text rule (src/store/text.ts, docs/architecture.md): JSON payloads
 * round-trip exactly, code unit for code unit; text columns round-trip exactly except that a lone
 * surrogate reads back as U+FFFD (`String.prototype.toWellFormed`), on every store alike, and a
 * lookup by the original string finds the row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_BUDGET } from '../../src/core/budget.ts';
import { verifyChain } from '../../src/core/audit.ts';
import { event, type NewEvent } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import { projectRun } from '../../src/runtime/handle.ts';
import type { ApprovalRow, FactRow, Store } from '../../src/store/ports.ts';
import type { ManualClock } from '../../src/testing/clock.ts';

type WithStore = (fn: (store: Store, clock: ManualClock) => Promise<void>) => Promise<void>;

const MB = 1024 * 1024;
/** Bytes that are not UTF-8, decoded as a gateway decodes a body (each bad sequence is U+FFFD). */
const INVALID_UTF8 = Buffer.from([0x66, 0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0xf0, 0x28]).toString(
  'utf8',
);

/** Every nasty string, by name; the 1 MB one mixes all of them. */
export const NASTY: Record<string, string> = {
  nul: 'thank\u0000you',
  onlyNul: '\u0000',
  escapes: 'back\\slash \\0 \\\\0 \\\\\\0 \\u0000 \\x00 trailing\\',
  loneHigh: 'x\ud800y',
  loneLow: '\udc00z',
  loneAtEnd: 'end\ud83d',
  reversedPair: '\ude00\ud83d',
  invalidUtf8: INVALID_UTF8,
  rtl: 'مرحبا \u202eabc\u202c שלום \u200f',
  emoji: '👩‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 😀',
  quotes: `'"; DROP TABLE runs; --`,
};
const MIXED = Object.values(NASTY).join('|');
NASTY.big = MIXED.repeat(Math.ceil(MB / MIXED.length));

/** The text rule for text columns. */
const asText = (s: string): string => s.toWellFormed();

export function adversarialContract(adapter: string, withStore: WithStore): void {
  describe(`${adapter} store: adversarial text`, () => {
    it('hardening #1: journal payloads round-trip every adversarial string exactly, in values and keys', () =>
      withStore(async (store) => {
        const submitted = event('run.submitted', {
          actorId: NASTY.nul ?? '',
          sessionId: NASTY.loneHigh ?? '',
          input: NASTY.big ?? '',
          channel: 'test',
          lineage: [],
          depth: 0,
          budget: DEFAULT_BUDGET,
        });
        const nested = Object.fromEntries(
          Object.entries(NASTY).map(([k, v]) => [`${k}:${v.slice(0, 40)}`, v]),
        );
        const events: NewEvent[] = [
          submitted,
          ...Object.values(NASTY).map((message) => event('progress', { message })),
          event('tool.succeeded', { callId: NASTY.nul ?? '', tool: 't', attempt: 1, result: { nested } }),
        ];
        await store.journal.append('r1', 1, events);
        const back = await store.journal.read('r1');
        assert.equal(back.length, events.length);
        back.forEach((e, i) => {
          assert.equal(e.type, events[i]?.type);
          assert.deepEqual(e.data, events[i]?.data);
        });
        const stored = await store.journal.readStored('r1');
        assert.deepEqual(verifyChain(stored), { ok: true, events: events.length });
        assert.deepEqual(JSON.parse(stored.at(-1)?.dataText ?? 'null'), events.at(-1)?.data);
      }));

    it('hardening #1: a lookup by an id holding NUL or a lone surrogate finds nothing and throws nothing', () =>
      withStore(async (store) => {
        for (const id of [NASTY.nul ?? '', NASTY.onlyNul ?? '', NASTY.loneHigh ?? '']) {
          assert.equal(await store.runs.get(id), null);
          assert.deepEqual(await store.journal.read(id), []);
          assert.equal(await store.approvals.get(id), null);
        }
      }));

    it('hardening #1: the runs projection holds adversarial ids and summaries (NUL included) on every store', () =>
      withStore(async (store, clock) => {
        const now = clock.now();
        let n = 0;
        for (const [name, v] of Object.entries(NASTY)) {
          const runId = `run-${name}`;
          await store.commit({
            projection: [
              {
                runId,
                actorId: `actor ${v.slice(0, 64)}`,
                sessionId: `session ${v.slice(0, 64)}`,
                agent: null,
                status: 'completed',
                parentRunId: null,
                createdAt: now + n++,
                updatedAt: now,
                lastSeq: 1,
                summary: v,
              },
            ],
          });
          const row = await store.runs.get(runId);
          assert.equal(row?.summary, asText(v), name);
          assert.equal(row?.actorId, asText(`actor ${v.slice(0, 64)}`), name);
          const listed = await store.runs.list({
            actorId: `actor ${v.slice(0, 64)}`,
            sessionId: `session ${v.slice(0, 64)}`,
          });
          assert.deepEqual(
            listed.map((r) => r.runId),
            [runId],
            name,
          );
          assert.equal(listed[0]?.summary, asText(v), name);
        }
      }));

    it('hardening #1: a run projected from an adversarial journal reads back as the fold of what was read', () =>
      withStore(async (store) => {
        const input = `Translate "thank\u0000you" into spanish ${NASTY.rtl} ${NASTY.loneHigh}`;
        const submitted = event('run.submitted', {
          actorId: 'a',
          sessionId: 's',
          input,
          channel: 'test',
          lineage: [],
          depth: 0,
          budget: DEFAULT_BUDGET,
        });
        // 199 code units and then an emoji: the 200-unit summary must not cut the pair in two.
        const output = `${'x'.repeat(199)}😀 gracias\u0000 ${NASTY.escapes}`;
        const done = event('run.completed', {
          output,
          totals: {
            steps: 0,
            modelCalls: 0,
            toolCalls: 0,
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            durationMs: 0,
          },
        });
        const at = store.now();
        const planned = foldRun(
          [submitted, done].map((e, i) => ({ runId: 'r1', seq: i + 1, at, v: 1, ...e }) as never),
        );
        await store.commit({
          appends: [{ runId: 'r1', expectedSeq: 1, events: [submitted, done] }],
          projection: [projectRun(planned)],
        });
        const fromJournal = projectRun(foldRun(await store.journal.read('r1')));
        const row = await store.runs.get('r1');
        assert.equal(row?.summary, fromJournal.summary);
        assert.equal(row?.summary?.isWellFormed(), true);
        assert.equal(foldRun(await store.journal.read('r1')).submitted.input, input);
      }));

    it('hardening #1: approvals keep adversarial args exactly and decide with an adversarial comment', () =>
      withStore(async (store, clock) => {
        const now = clock.now();
        const args = { ...NASTY, nested: { [NASTY.loneHigh ?? '']: [NASTY.nul, NASTY.invalidUtf8] } };
        const pending: ApprovalRow = {
          approvalId: 'ap1',
          runId: 'r1',
          callId: `call ${NASTY.nul}`,
          tool: 'refund',
          agent: 'billing',
          args,
          argsDigest: 'digest',
          reasons: [NASTY.rtl ?? '', NASTY.loneLow ?? '', NASTY.escapes ?? ''],
          requestedBy: `user ${NASTY.nul} ${NASTY.loneAtEnd}`,
          requestedAt: now,
          expiresAt: now + 1000,
          status: 'pending',
          approver: null,
          comment: null,
          decidedAt: null,
        };
        await store.commit({ approvals: [pending] });
        const decided: ApprovalRow = {
          ...pending,
          status: 'approved',
          approver: `boss ${NASTY.escapes}`,
          comment: NASTY.big ?? '',
          decidedAt: now + 1,
        };
        await store.commit({ approvals: [decided] });
        const row = await store.approvals.get('ap1');
        assert.ok(row);
        assert.deepEqual(row.args, args);
        assert.deepEqual(row.reasons, pending.reasons);
        assert.equal(row.callId, pending.callId);
        assert.equal(row.requestedBy, asText(pending.requestedBy));
        assert.equal(row.approver, decided.approver);
        assert.equal(row.comment, asText(decided.comment ?? ''));
        assert.equal(row.status, 'approved');
        assert.deepEqual(await store.approvals.list({ runId: 'r1' }), [row]);
      }));

    it('hardening #1: facts hold adversarial actors, keys and 1 MB values, found by the same strings', () =>
      withStore(async (store, clock) => {
        const now = clock.now();
        let n = 0;
        for (const [name, v] of Object.entries(NASTY)) {
          const actorId = `actor ${v.slice(0, 64)}`;
          const fact: FactRow = {
            id: `fact-${name}`,
            actorId,
            namespace: `ns ${v.slice(0, 32)}`,
            key: `key ${v.slice(0, 32)}`,
            value: v,
            source: 'tool',
            trusted: false,
            runId: null,
            callId: `call ${v.slice(0, 16)}`,
            createdAt: now + n++,
            expiresAt: null,
          };
          await store.facts.put(fact);
          const listed = await store.facts.list(actorId, now);
          assert.equal(listed.length, 1, name);
          assert.deepEqual(
            listed[0],
            {
              ...fact,
              actorId: asText(actorId),
              namespace: asText(fact.namespace),
              key: asText(fact.key),
              value: asText(v),
              callId: asText(fact.callId ?? ''),
            },
            name,
          );
          assert.equal(await store.facts.deleteActor(actorId), 1, name);
          assert.deepEqual(await store.facts.list(actorId, now), [], name);
        }
      }));

    it('hardening #1: session order and dedup keys with NUL and lone surrogates', () =>
      withStore(async (store, clock) => {
        const key = `actor\u0000${NASTY.loneHigh}\u0000${NASTY.escapes}`;
        await store.commit({ session: { join: { sessionKey: key, runId: 'r1', queue: 'q' } } });
        await store.commit({ session: { join: { sessionKey: key, runId: 'r2', queue: 'q' } } });
        assert.deepEqual([...(await store.queue.pendingRunIds())], ['r1']);
        const left = await store.commit({
          deleteTasks: ['r1'],
          session: { leave: { sessionKey: key, runId: 'r1' } },
        });
        assert.deepEqual(
          left.woken.map((t) => t.runId),
          ['r2'],
        );
        await store.commit({ dedup: { key, runId: 'r1', expiresAt: clock.now() + 1000 } });
        assert.equal(await store.runs.dedup(key, clock.now()), 'r1');
        await assert.rejects(store.commit({ dedup: { key, runId: 'r3', expiresAt: clock.now() + 1000 } }));
      }));
  });
}

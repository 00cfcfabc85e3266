/**
 * Hardening of the store side (issue 17), through the system's own APIs on memory, SQLite and
 * PostgreSQL: a closed journal answers late decisions (#12), erasure reaches the approvals inbox (#4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { ConflictError, JournalClosedError } from '../../src/core/errors.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import type { System } from '../../src/system.ts';
import { requirePostgres, startSystem, type Adapter } from '../helpers.ts';

const ADAPTERS: Adapter[] = ['memory', 'sqlite', ...((await requirePostgres()) ? ['postgres' as const] : [])];
const approver = { id: 'alice', roles: ['approver'] };

function refundSystem(adapter: Adapter) {
  const refund = defineTool({
    name: 'refund',
    description: 'Refund an amount to the customer',
    input: z.object({ orderId: z.string(), amount: z.number() }),
    risk: 'financial',
    requiresApproval: ({ amount }) => (amount > 100 ? `refund of $${amount} is over the $100 limit` : false),
    run: ({ amount }) => ({ refunded: amount }),
  });
  const commerce = defineAgent({
    name: 'commerce',
    responsibility: 'Refunds',
    instructions: 'Refund when asked.',
    tools: [refund],
  });
  const model = policyModel(({ prompt }) =>
    toolResults(prompt).length === 0
      ? { toolCalls: [{ toolName: 'refund', input: { orderId: 'ORD-10005', amount: 250 } }] }
      : { text: 'Refunded $250.' },
  );
  return startSystem(adapter, { agents: [commerce], model });
}

async function pendingApproval(system: System, runId: string): Promise<string> {
  for await (const e of system.events(runId)) if (e.type === 'approval.requested') return e.data.approvalId;
  throw new Error(`run ${runId} ended without an approval request`);
}

const typesOf = async (system: System, runId: string) =>
  (await system.store.journal.read(runId)).map((e) => e.type);

for (const adapter of ADAPTERS) {
  describe(`hardening (store) on ${adapter}`, () => {
    it('hardening #12: re-deciding an approval after the run completed is refused and appends nothing', async () => {
      const { system, close } = await refundSystem(adapter);
      try {
        const { runId } = await system.submit({ actorId: 'bob', sessionId: 's', input: 'refund ORD-10005' });
        const approvalId = await pendingApproval(system, runId);
        await system.approvals.decide(approvalId, { decision: 'approved', approver });
        assert.equal((await system.wait(runId)).status, 'completed');
        const before = await typesOf(system, runId);
        assert.equal(before.at(-1), 'run.completed');
        await assert.rejects(
          system.approvals.decide(approvalId, {
            decision: 'rejected',
            approver: { id: 'carol', roles: ['approver'] },
            comment: 'too late',
          }),
          (e: unknown) => e instanceof ConflictError && /already approved/.test(e.message),
        );
        // Not even a refusal is journaled after the end: it is answered instead.
        await assert.rejects(
          system.approvals.decide(approvalId, {
            decision: 'approved',
            approver: { id: 'bob', roles: ['user'] },
          }),
          { name: 'PermissionError' },
        );
        assert.deepEqual(await typesOf(system, runId), before);
        assert.equal((await system.approvals.get(approvalId)).status, 'approved');
      } finally {
        await close();
      }
    });

    it('hardening #12: deciding an approval of a cancelled run is refused with the reason, nothing appended', async () => {
      const { system, close } = await refundSystem(adapter);
      try {
        const { runId } = await system.submit({ actorId: 'bob', sessionId: 's', input: 'refund ORD-10005' });
        const approvalId = await pendingApproval(system, runId);
        await system.cancel(runId, { by: 'op', reason: 'customer withdrew' });
        const before = await typesOf(system, runId);
        await assert.rejects(
          system.approvals.decide(approvalId, { decision: 'approved', approver }),
          (e: unknown) => e instanceof JournalClosedError && /has ended \(cancelled\)/.test(e.message),
        );
        assert.deepEqual(await typesOf(system, runId), before);
        assert.equal(before.at(-1), 'run.cancelled');
      } finally {
        await close();
      }
    });

    it('hardening #4: DELETE /v1/memory (forget) leaves no tool argument of the actor in the approvals inbox', async () => {
      const { system, close } = await refundSystem(adapter);
      try {
        const eve = await system.submit({
          actorId: 'eve',
          sessionId: 's',
          input: 'refund ORD-10005',
          clientMessageId: 'msg-1',
        });
        const approvalId = await pendingApproval(system, eve.runId);
        await system.approvals.decide(approvalId, {
          decision: 'approved',
          approver,
          comment: 'ok for ORD-10005',
        });
        assert.equal((await system.wait(eve.runId)).status, 'completed');
        const before = await system.approvals.get(approvalId);
        assert.match(JSON.stringify(before), /ORD-10005/);

        assert.equal(await system.memory.forget({ actorId: 'eve', by: 'dpo' }), 1);

        const inbox = await system.approvals.list({});
        assert.doesNotMatch(JSON.stringify(inbox), /ORD-10005|250/);
        const after = await system.approvals.get(approvalId);
        // Kept: the decision, who asked, who approved, and when.
        assert.deepEqual(
          [after.status, after.requestedBy, after.approver, after.decidedAt, after.requestedAt],
          [before.status, before.requestedBy, before.approver, before.decidedAt, before.requestedAt],
        );
        assert.equal(after.args, '[redacted]');
        const journal = await system.store.journal.read(eve.runId);
        assert.doesNotMatch(JSON.stringify(journal), /ORD-10005|\$250/);
        assert.equal((await system.verify(eve.runId)).ok, true);
        // The client message id (actor, session, id) is gone from the dedup keys too.
        const again = await system.submit({
          actorId: 'eve',
          sessionId: 's',
          input: 'hi',
          clientMessageId: 'msg-1',
        });
        assert.notEqual(again.runId, eve.runId);
      } finally {
        await close();
      }
    });
  });
}

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
import { postgresAvailable, startSystem, type Adapter } from '../helpers.ts';

const ADAPTERS: Adapter[] = ['memory', 'sqlite', ...((await postgresAvailable) ? ['postgres' as const] : [])];
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
  });
}

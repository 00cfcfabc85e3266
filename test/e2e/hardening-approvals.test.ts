/**
 * Issue 17 #12 through HTTP: re-deciding an approval after its run ended is answered 409 with the
 * reason, and nothing is appended after the run's closing event (SQLite and PostgreSQL).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { requirePostgres, type Adapter } from '../helpers.ts';
import { api, startGateway } from './fixtures/gateway.ts';

const adapters: Adapter[] = ['sqlite', ...((await requirePostgres()) ? ['postgres' as const] : [])];

const refund = defineTool({
  name: 'refund',
  description: 'Refund an order',
  input: z.object({ orderId: z.string(), amount: z.number() }),
  risk: 'financial',
  requiresApproval: ({ amount }) => (amount > 100 ? 'over the $100 limit' : false),
  run: ({ amount }) => ({ refunded: amount }),
});
const model = () =>
  policyModel(({ prompt }) =>
    toolResults(prompt).length === 0
      ? { toolCalls: [{ toolName: 'refund', input: { orderId: 'ORD-10005', amount: 250 } }] }
      : { text: 'Refunded.' },
  );

for (const adapter of adapters) {
  describe(`approvals API on ${adapter}`, () => {
    it('hardening #12: POST /v1/approvals/:id after the run completed is 409 and appends nothing', async () => {
      const h = await startGateway({ adapter, model: model(), tools: [refund] });
      try {
        const bob = await h.key('bob');
        const alice = await h.key('alice', 'approver');
        const carol = await h.key('carol', 'approver');
        const submitted = await api(h, bob.key)('/v1/runs', {
          method: 'POST',
          json: { input: 'refund ORD-10005', sessionId: 's' },
        });
        const { runId } = (await submitted.json()) as { runId: string };
        let approvalId = '';
        for await (const e of h.system.events(runId))
          if (e.type === 'approval.requested') {
            approvalId = e.data.approvalId;
            break;
          }
        const first = await api(h, alice.key)(`/v1/approvals/${approvalId}`, {
          method: 'POST',
          json: { decision: 'approved' },
        });
        assert.equal(first.status, 200, await first.clone().text());
        assert.equal((await h.system.wait(runId)).status, 'completed');
        const before = (await h.system.store.journal.read(runId)).map((e) => e.type);
        assert.equal(before.at(-1), 'run.completed');

        const late = await api(h, carol.key)(`/v1/approvals/${approvalId}`, {
          method: 'POST',
          json: { decision: 'rejected', comment: 'too late' },
        });
        assert.equal(late.status, 409);
        const body = (await late.json()) as {
          error: { code: string; message: string; details: { reason: string } };
        };
        assert.equal(body.error.code, 'conflict');
        assert.equal(body.error.details.reason, 'state');
        assert.match(body.error.message, /already approved/);
        assert.deepEqual(
          (await h.system.store.journal.read(runId)).map((e) => e.type),
          before,
        );
      } finally {
        await h.close();
      }
    });
  });
}

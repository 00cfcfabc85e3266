/**
 * Issue 17 #5 in the reference system (offline model, seeded business data): the refund limit
 * holds over history, and a full customer export needs an operator or an approval. Refunds are
 * counted from the business database's own refunds table.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createEnterpriseSystem } from '../../examples/enterprise/agents.ts';
import type { System } from '../../src/system.ts';

async function settle(system: System, runId: string): Promise<string> {
  for await (const e of system.events(runId)) {
    if (e.type === 'approval.requested') return `approval:${e.data.tool}`;
    if (e.type === 'run.completed' || e.type === 'run.failed' || e.type === 'run.escalated') return e.type;
  }
  return 'ended';
}

describe('hardening #5 in the reference system', { timeout: 120_000 }, () => {
  it('hardening #5: four refunds of $99 on one order: the second and later wait for approval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-ent-hist-'));
    const ent = createEnterpriseSystem({ dataDir: dir, system: { pollMs: 20, onWarning: () => {} } });
    await ent.system.start();
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { runId } = await ent.system.submit({
          actorId: 'cust-1',
          sessionId: `s${i}`,
          agent: 'commerce',
          input: 'Please refund $99 on order ORD-10002, the item was damaged',
        });
        outcomes.push(await settle(ent.system, runId));
      }
      assert.deepEqual(outcomes, [
        'run.completed',
        'approval:process_refund',
        'approval:process_refund',
        'approval:process_refund',
      ]);
      const refunds = await ent.business.all<{ amount_cents: number }>(
        "SELECT amount_cents FROM refunds WHERE order_id = 'ORD-10002'",
      );
      assert.deepEqual(
        refunds.map((r) => r.amount_cents),
        [9900],
      );
    } finally {
      await ent.system.stop();
      await ent.business.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hardening #5: exporting all customers needs an operator key or an approval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-ent-export-'));
    const ent = createEnterpriseSystem({ dataDir: dir, system: { pollMs: 20, onWarning: () => {} } });
    await ent.system.start();
    try {
      const ask = async (role: string | undefined, session: string): Promise<string> => {
        const { runId } = await ent.system.submit({
          actorId: 'staff',
          sessionId: session,
          agent: 'operations',
          input: 'Export all customers to a CSV file',
          ...(role ? { role } : {}),
        });
        return settle(ent.system, runId);
      };
      assert.equal(await ask('user', 'a'), 'approval:export_data');
      assert.equal(await ask(undefined, 'b'), 'approval:export_data');
      assert.equal(await ask('operator', 'c'), 'run.completed');
      // Other datasets are not personal data of every customer.
      const { runId } = await ent.system.submit({
        actorId: 'staff',
        sessionId: 'd',
        agent: 'operations',
        input: 'Export the refunds data to CSV',
        role: 'user',
      });
      assert.equal(await settle(ent.system, runId), 'run.completed');
    } finally {
      await ent.system.stop();
      await ent.business.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

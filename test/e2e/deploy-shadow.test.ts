/**
 * Must-show 5 (issue 18): a `shadow:100:1m` deployment of a v2 that calls different tools. Every
 * write tool records into an independent business ledger (a SQLite file of its own, each row naming
 * the run and actor that caused it): after the live load the ledger holds exactly what the live
 * runs wrote — nothing from a shadow run — and the deployment's report lists the divergent runs
 * and steps. Shadow runs reach no inbox and are not the user's runs. On SQLite and PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults, userText } from '../../src/models/scripted.ts';
import type { ShadowReport } from '../../src/core/shadow-report.ts';
import { requirePostgres, startSystem } from '../helpers.ts';

function ledger(): { db: DatabaseSync; dump: () => Record<string, unknown>[]; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-ledger-'));
  const db = new DatabaseSync(join(dir, 'business.db'));
  db.exec('CREATE TABLE ledger (id INTEGER PRIMARY KEY, run_id TEXT, actor TEXT, tool TEXT, arg TEXT)');
  return {
    db,
    dump: () =>
      db
        .prepare('SELECT run_id, actor, tool, arg FROM ledger ORDER BY id')
        .all()
        .map((r) => ({ ...r })),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function agentsOn(db: DatabaseSync) {
  const write = (tool: string, arg: string, ctx: { runId: string; actorId: string }): void => {
    db.prepare('INSERT INTO ledger (run_id, actor, tool, arg) VALUES (?, ?, ?, ?)').run(
      ctx.runId,
      ctx.actorId,
      tool,
      arg,
    );
  };
  const note = defineTool({
    name: 'record_note',
    description: 'Record a note in the ledger',
    input: z.object({ text: z.string() }),
    risk: 'write',
    run: async ({ text }, ctx) => {
      write('record_note', text, ctx);
      return { noted: true };
    },
  });
  const refund = defineTool({
    name: 'issue_refund',
    description: 'Refund the customer',
    input: z.object({ amount: z.number() }),
    risk: 'write',
    requiresApproval: () => 'refunds need a person',
    run: async ({ amount }, ctx) => {
      write('issue_refund', String(amount), ctx);
      return { refunded: amount };
    },
  });
  return ['v1', 'v2'].map((version) =>
    defineAgent({
      name: 'desk',
      version,
      responsibility: 'Front desk',
      instructions: `Handle the request (${version}).`,
      tools: version === 'v1' ? [note] : [note, refund],
    }),
  );
}

// v1 notes the request; v2 notes it the same way AND refunds: the refund is the divergence.
const model = policyModel(({ prompt }) => {
  const v2 = JSON.stringify(prompt).includes('(v2)');
  if (toolResults(prompt).length > 0) return { text: v2 ? 'Noted and refunded.' : 'Noted.' };
  const calls = [{ toolName: 'record_note', input: { text: userText(prompt) } }];
  return { toolCalls: v2 ? [...calls, { toolName: 'issue_refund', input: { amount: 5 } }] : calls };
});

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const adapter of ['sqlite', 'postgres'] as const) {
  test(`shadow of a version calling other tools changes no business row and reports the divergences (${adapter})`, async (t) => {
    if (adapter === 'postgres' && !(await requirePostgres())) return t.skip('PostgreSQL not available');
    const biz = ledger();
    const s = await startSystem(adapter, {
      agents: agentsOn(biz.db),
      model,
      deployments: { evaluateEveryMs: 30, leaseMs: 2_000 },
    });
    try {
      const api = s.system.deployments;
      const { deploymentId } = await api.deploy({
        agent: 'desk',
        to: 'v2',
        strategy: 'shadow:100:1m',
        by: 'test',
      });
      await until('shadow_started', async () =>
        (await api.get(deploymentId)).steps.some((x) => x.decision === 'shadow_started') ? true : undefined,
      );
      const live: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { runId } = await s.system.submit({
          actorId: 'alice',
          sessionId: `s${i}`,
          input: `ticket ${i}`,
          agent: 'desk',
        });
        await s.system.wait(runId);
        live.push(runId);
      }
      const shadowActor = `shadow:${deploymentId}`;
      const shadows = await until('4 shadow runs ended', async () => {
        const rows = await s.store.runs.list({ actorId: shadowActor });
        return rows.length === 4 && rows.every((r) => r.status === 'completed') ? rows : undefined;
      });
      // The business ledger holds exactly what the live runs wrote: one note each, no refund.
      assert.deepEqual(
        biz.dump(),
        live.map((runId, i) => ({ run_id: runId, actor: 'alice', tool: 'record_note', arg: `ticket ${i}` })),
      );
      assert.ok(shadows.every((r) => r.version === 'v2' && r.agent === 'desk'));
      // The report: every run diverged at step 1 on the refund; the note was served.
      const d = await api.get(deploymentId);
      const report = d.shadow as ShadowReport;
      assert.equal(report.runs, 4);
      assert.equal(report.divergent, 4);
      assert.equal(report.answersDiffer, 4);
      assert.deepEqual(report.runsReport.map((r) => r.liveRunId).sort(), [...live].sort());
      for (const r of report.runsReport) {
        assert.equal(r.status, 'completed');
        assert.deepEqual(r.liveTools, ['record_note']);
        assert.deepEqual(r.shadowTools, ['record_note', 'issue_refund']);
        assert.equal(r.divergentSteps.length, 1);
        assert.equal(r.divergentSteps[0]?.step, 1);
        assert.equal(r.divergentSteps[0]?.tool, 'issue_refund');
        assert.deepEqual(r.divergentSteps[0]?.args, { amount: 5 });
        assert.deepEqual([r.liveAnswer, r.shadowAnswer], ['Noted.', 'Noted and refunded.']);
        assert.equal(r.shadowApprovalsNeeded, 1);
        assert.equal(r.liveApprovals, 0);
        const j = await s.store.journal.read(r.shadowRunId);
        const served = j.find((e) => e.type === 'tool.succeeded');
        assert.deepEqual(served?.type === 'tool.succeeded' && served.data.result, { noted: true });
      }
      // Never the user's runs, never in an inbox, never asking a person.
      const alices = await s.system.list({ actorId: 'alice' });
      assert.deepEqual(alices.map((r) => r.runId).sort(), [...live].sort());
      assert.deepEqual(await s.store.approvals.list({}), []);
      assert.deepEqual(await s.system.escalations.list(), []);
    } finally {
      await s.close();
      biz.close();
    }
  });
}

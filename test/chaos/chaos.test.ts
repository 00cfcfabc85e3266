import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { requirePostgres } from '../helpers.ts';
import type { PostgresChaosReport } from './postgres/chaos-pg.ts';

const run = promisify(execFile);
const script = new URL('./chaos.ts', import.meta.url).pathname;

/** Run `npm run chaos -- <args>` (the same script); the report is the last line, the exit code kept. */
async function chaos(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; report: Record<string, unknown> }> {
  const out = await run(process.execPath, [script, ...args, '--json'], {
    timeout: 300_000,
    env: { ...process.env, ...env },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
  );
  const report = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  return { code: out.code, report };
}

describe('chaos', () => {
  it('hardening #17: a workload killed with SIGKILL at seeded fault points and in every recovery path completes every run, each effect exactly once', async () => {
    const { code, report } = await chaos(['--runs', '8', '--seed', '11', '--p', '0.05']);
    const r = report as Record<string, number>;
    assert.equal(code, 0, JSON.stringify(r));
    assert.equal(r.runs, 8);
    assert.equal(r.completed, 8);
    assert.equal(r.duplicateEffects, 0);
    assert.ok((r.kills ?? 0) > 0, 'the seed must make the worker die at least once');
    // charge + reserve + notice per run, each exactly once.
    assert.equal(r.effects, 24);
    assert.equal(r.expectedEffects, 24);
    assert.equal(r.duplicateJournalRows, 0);
    // The recovery paths ran: an idempotent re-run, reconcile, a pause for a person.
    assert.ok((r.inDoubtReruns ?? 0) > 0, 'in-doubt re-runs');
    assert.ok((r.reconciled ?? 0) > 0, 'reconciled calls');
    assert.ok((r.needsAttention ?? 0) > 0, 'calls needing attention');
  });
});

const postgres = await requirePostgres();

describe('chaos on PostgreSQL', { skip: !postgres }, () => {
  const args = [
    '--store',
    'postgres',
    '--workers',
    '2',
    '--runs',
    '10',
    '--terminations',
    '3',
    '--kills',
    '3',
  ];

  it('hardening #16: many killed workers, terminated connections, every recovery path: each effect exactly once, counted from an independent ledger', async () => {
    const { code, report } = await chaos(args);
    const r = report as unknown as PostgresChaosReport;
    const about = JSON.stringify(r);
    assert.equal(code, 0, about);
    assert.equal(r.ok, true, about);
    assert.equal(r.completed, 10, about);
    // Charge, reserve and notice for every run, each exactly once; none lost, none unjournaled.
    assert.equal(r.expectedEffects, 30, about);
    assert.equal(r.effects, 30, about);
    assert.equal(r.duplicateEffects, 0, about);
    assert.equal(r.lostEffects, 0, about);
    assert.equal(r.unjournaledEffects, 0, about);
    assert.equal(r.duplicateJournalRows, 0, about);
    assert.equal(r.seqGaps, 0, about);
    // Every recovery path ran: idempotent re-runs (more executions than effects), reconcile found
    // the effect and found none, and in-doubt notices paused for the operator, who resolved both ways.
    assert.ok(r.inDoubtReruns > 0, about);
    assert.ok(r.executions > r.effects, about);
    assert.ok(r.reconciledApplied > 0, about);
    assert.ok(r.reconciledNotApplied > 0, about);
    assert.ok(r.needsAttention > 0, about);
    assert.ok(r.operatorResolved.succeeded > 0, about);
    assert.ok(r.operatorResolved.retry > 0, about);
  });

  it('hardening #16: with the idempotency key broken (test switch), the same chaos reports duplicate effects and exits non-zero', async () => {
    const { code, report } = await chaos(args, { SWITCHBOARD_CHAOS_BREAK_IDEMPOTENCY: '1' });
    const r = report as Record<string, number | boolean>;
    const about = JSON.stringify(r);
    assert.equal(r.brokenIdempotency, true, about);
    assert.ok(Number(r.duplicateEffects) > 0, about);
    assert.equal(r.ok, false, about);
    assert.equal(code, 1, about);
  });
});

/**
 * One life of the chaos worker process: submit the workload (deduplicated by client message id,
 * so a restart re-submits nothing), work until every run has ended, resolving in-doubt calls the
 * way an operator would (by checking the ledger). SWITCHBOARD_FAULTS makes it die at fault points.
 */
import { join } from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { createSystem } from '../../src/system.ts';
import { TERMINAL_STATUSES } from '../../src/core/run-state.ts';
import { chaosAgents, chaosModel, effectsFor, openLedger } from './workload.ts';

const [dir, runsArg] = process.argv.slice(2);
if (!dir || !runsArg) throw new Error('usage: worker.ts <dir> <runs>');
const runs = Number(runsArg);
const ledger = openLedger(join(dir, 'ledger.db'));
const store = createSqliteStore({ path: join(dir, 'switchboard.db') });
const system = createSystem({
  // The driver sets the fault points; createSystem reads no environment.
  ...(process.env.SWITCHBOARD_FAULTS ? { faults: process.env.SWITCHBOARD_FAULTS } : {}),
  agents: chaosAgents(ledger, Number(process.env.SB_CHAOS_CRASH_EVERY ?? '0')),
  model: chaosModel(),
  store,
  pollMs: 20,
  errorRetryMs: 10,
  sweepIntervalMs: 200,
  leaseMs: 2000,
  onWarning: () => {},
});
await system.start();
const ids: string[] = [];
for (let i = 0; i < runs; i++) {
  const { runId } = await system.submit({
    actorId: 'chaos',
    sessionId: `s${i}`,
    input: `order ${i}`,
    agent: 'desk',
    clientMessageId: `m${i}`,
  });
  ids.push(runId);
}
for (;;) {
  let open = 0;
  for (const runId of [
    ...ids,
    ...(await system.list({ limit: 10_000 })).filter((r) => r.parentRunId).map((r) => r.runId),
  ]) {
    const run = await system.get(runId);
    if (run.status === 'needs_attention' && run.attention) {
      // The operator checks the downstream system for the call's key, then resolves.
      const key = `${runId}:${run.attention.callId}`;
      if (effectsFor(ledger, key) > 0)
        await system.resolve(runId, {
          callId: run.attention.callId,
          resolution: 'succeeded',
          result: { sent: true },
          by: 'operator',
        });
      else await system.resolve(runId, { callId: run.attention.callId, resolution: 'retry', by: 'operator' });
    }
    if (!TERMINAL_STATUSES.has(run.status)) open++;
  }
  if (open === 0) break;
  await new Promise((r) => setTimeout(r, 50));
}
await system.stop();
ledger.close();

/**
 * One chaos worker process: a Switchboard worker on the shared PostgreSQL schema. Dies by SIGKILL
 * at random fault points (`SWITCHBOARD_FAULTS`, passed to createSystem), at the workload's
 * deterministic crash spots, or when the driver kills it.
 */
import pg from 'pg';
import { createPostgresStore } from '../../../src/store/postgres/store.ts';
import { createSystem } from '../../../src/system.ts';
import { chaosModel } from '../workload.ts';
import { BREAK_IDEMPOTENCY_ENV, chaosAgents } from './workload.ts';

const url = process.env.SB_CHAOS_URL ?? '';
const schema = process.env.SB_CHAOS_SCHEMA ?? '';
const app = process.env.SB_CHAOS_APP ?? 'switchboard-chaos';
// The ledger is the downstream system: its own connections, not among those the driver terminates.
const ledger = new pg.Pool({ connectionString: url, max: 4, application_name: `ledger-${schema}` });
ledger.on('error', () => {});
const store = createPostgresStore({ url, schema, applicationName: app, onError: () => {} });
const agents = chaosAgents(ledger, schema, {
  toolMs: Number(process.env.SB_CHAOS_TOOL_MS ?? '20'),
  crashEvery: Number(process.env.SB_CHAOS_CRASH_EVERY ?? '0'),
  breakIdempotency: process.env[BREAK_IDEMPOTENCY_ENV] === '1',
});
const system = createSystem({
  // The driver sets the fault points; createSystem reads no environment.
  ...(process.env.SWITCHBOARD_FAULTS ? { faults: process.env.SWITCHBOARD_FAULTS } : {}),
  agents,
  model: chaosModel(),
  store,
  // check_account fails its first attempt in every run by design: with the default threshold the
  // breaker would open and hold calls for its cooldown, which is not what this chaos measures.
  breaker: { threshold: 1_000_000 },
  leaseMs: 1500,
  pollMs: 100,
  errorRetryMs: 100,
  sweepIntervalMs: 2000,
  onError: () => {},
  onWarning: () => {},
});
// Start-up may meet a terminated connection too: try again rather than die.
for (let attempt = 0; ; attempt++) {
  try {
    await store.ready();
    await system.start();
    break;
  } catch (error) {
    if (attempt >= 50) throw error;
    await new Promise((r) => setTimeout(r, 100));
  }
}
process.send?.('ready');
const stop = async (): Promise<void> => {
  await system.stop();
  await store.close();
  await ledger.end();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());

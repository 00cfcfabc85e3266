/**
 * One chaos worker process: a Switchboard worker on the shared PostgreSQL schema. Dies by SIGKILL
 * at random fault points (`SWITCHBOARD_FAULTS`, passed to createSystem) or when the driver kills it.
 */
import pg from 'pg';
import { createPostgresStore } from '../../../src/store/postgres/store.ts';
import { createSystem } from '../../../src/system.ts';
import { chaosAgents } from './workload.ts';

const url = process.env.SB_CHAOS_URL ?? '';
const schema = process.env.SB_CHAOS_SCHEMA ?? '';
const app = process.env.SB_CHAOS_APP ?? 'switchboard-chaos';
const pool = new pg.Pool({ connectionString: url, max: 4, application_name: app });
pool.on('error', () => {});
const store = createPostgresStore({ url, schema, applicationName: app, onError: () => {} });
const { agents, model } = chaosAgents(pool, schema, Number(process.env.SB_CHAOS_TOOL_MS ?? '20'));
const system = createSystem({
  // The driver sets the fault points; createSystem reads no environment.
  ...(process.env.SWITCHBOARD_FAULTS ? { faults: process.env.SWITCHBOARD_FAULTS } : {}),
  agents,
  model,
  store,
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
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());

/**
 * What the CLI runs: the reference system (examples/enterprise) on embedded SQLite in the data
 * directory, on the offline model unless a provider is configured.
 */
import { resolve } from 'node:path';
import { createEnterpriseSystem, type EnterpriseSystem } from '../../examples/enterprise/agents.ts';
import type { SystemOptions } from '../system.ts';
import type { AgentDefinition } from '../core/agent.ts';
import { openPostgresStore } from '../store/postgres/cli.ts';
import { createModelFromEnv } from '../models/providers.ts';
import { resilienceFromEnv, resilientModel } from '../models/resilient.ts';

/** `$SWITCHBOARD_DATA_DIR`, else `./.switchboard` under the current directory. */
export function dataDir(): string {
  return resolve(process.env.SWITCHBOARD_DATA_DIR ?? '.switchboard');
}

/** Open the reference system. Fails at start-up, never at the first request, on a bad configuration. */
export function openApp(
  options: {
    reset?: boolean;
    system?: Partial<SystemOptions>;
    transformAgents?: (agents: AgentDefinition[]) => AgentDefinition[];
  } = {},
): EnterpriseSystem {
  // SWITCHBOARD_MODEL selects a provider; a bad value fails here, in one line, never at the first request.
  const base = createModelFromEnv(process.env);
  const model = base ? resilientModel(base, resilienceFromEnv(process.env)) : undefined;
  // SWITCHBOARD_DATABASE_URL switches every store to PostgreSQL (unless the caller passed one).
  const store =
    options.system?.store ?? (process.env.SWITCHBOARD_DATABASE_URL ? openPostgresStore() : undefined);
  return createEnterpriseSystem({
    dataDir: dataDir(),
    ...(store ? { store } : {}),
    ...(model ? { model } : {}),
    ...(options.reset ? { reset: true } : {}),
    ...(options.transformAgents ? { transformAgents: options.transformAgents } : {}),
    system: {
      onError: (e) => console.error(`[switchboard] ${e instanceof Error ? e.message : String(e)}`),
      ...options.system,
    },
  });
}

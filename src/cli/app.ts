/**
 * What the CLI runs: the reference system (examples/enterprise) on embedded SQLite in the data
 * directory, on the offline model unless a provider is configured.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { createEnterpriseSystem, type EnterpriseSystem } from '../../examples/enterprise/agents.ts';
import type { SystemOptions } from '../system.ts';
import type { AgentDefinition } from '../core/agent.ts';
import { openPostgresStore } from '../store/postgres/cli.ts';

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
  if (process.env.SWITCHBOARD_MODEL) {
    throw new ConfigError(
      'SWITCHBOARD_MODEL',
      'model providers are not available in this build yet; unset it to run on the offline model (no LLM)',
    );
  }
  // SWITCHBOARD_DATABASE_URL switches every store to PostgreSQL (unless the caller passed one).
  const store =
    options.system?.store ?? (process.env.SWITCHBOARD_DATABASE_URL ? openPostgresStore() : undefined);
  return createEnterpriseSystem({
    dataDir: dataDir(),
    ...(store ? { store } : {}),
    ...(options.reset ? { reset: true } : {}),
    ...(options.transformAgents ? { transformAgents: options.transformAgents } : {}),
    system: {
      onError: (e) => console.error(`[switchboard] ${e instanceof Error ? e.message : String(e)}`),
      ...options.system,
    },
  });
}

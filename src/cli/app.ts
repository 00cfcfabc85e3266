/**
 * What the CLI runs: the reference system (examples/enterprise) on embedded SQLite in the data
 * directory, on the offline model unless a provider is configured.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { createEnterpriseSystem, type EnterpriseSystem } from '../../examples/enterprise/agents.ts';
import type { SystemOptions } from '../system.ts';

/** `$SWITCHBOARD_DATA_DIR`, else `./.switchboard` under the current directory. */
export function dataDir(): string {
  return resolve(process.env.SWITCHBOARD_DATA_DIR ?? '.switchboard');
}

/** Open the reference system. Fails at start-up, never at the first request, on a bad configuration. */
export function openApp(
  options: { reset?: boolean; system?: Partial<SystemOptions> } = {},
): EnterpriseSystem {
  if (process.env.SWITCHBOARD_MODEL) {
    throw new ConfigError(
      'SWITCHBOARD_MODEL',
      'model providers are not available in this build yet; unset it to run on the offline model (no LLM)',
    );
  }
  return createEnterpriseSystem({
    dataDir: dataDir(),
    ...(options.reset ? { reset: true } : {}),
    system: {
      onError: (e) => console.error(`[switchboard] ${e instanceof Error ? e.message : String(e)}`),
      ...options.system,
    },
  });
}

/**
 * What every CLI command acts on: the project the configuration describes (`--config <file>`, else
 * `$SWITCHBOARD_CONFIG`, else `./switchboard.config.{ts,mts,js,mjs}`), opened for one command.
 */
import type { CompiledConfig } from '../config.ts';
import type { OpenOptions, Project } from '../project.ts';

// The project (and with it the whole runtime) is imported when a command runs, not for `--help`.
const project = () => import('../project.ts');
const env = async () => (await import('../config.ts')).processEnv();

/** The `--config` option every command that acts on a system takes. */
export const CONFIG_FLAG = [
  '--config <file>',
  'the project configuration (default ./switchboard.config.ts)',
] as const;

/** The configuration this command acts on (environment variables override the file). */
export async function cliConfig(flag: string | undefined): Promise<CompiledConfig> {
  return (await project()).loadConfig({ ...(flag ? { config: flag } : {}), env: await env() });
}

/** Open the configured system for a command. */
export async function openCli(flag: string | undefined, options: OpenOptions = {}): Promise<Project> {
  return (await project()).openProject(await cliConfig(flag), { env: await env(), ...options });
}

/** Run `fn` on the configured system; it is closed however `fn` ends. */
export async function withProject<T>(
  flag: string | undefined,
  options: OpenOptions,
  fn: (project: Project) => Promise<T>,
): Promise<T> {
  const project = await openCli(flag, options);
  try {
    if (options.workers !== false) await project.system.start();
    return await fn(project);
  } finally {
    await project.close();
  }
}

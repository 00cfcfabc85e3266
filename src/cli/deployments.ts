/**
 * `switchboard versions|aliases|deploy|deployments`: published versions, alias weights, deployments
 * and the operator actions on them. Each acts on the store directly (no workers start here); a
 * process with workers drives the deployment. The operator recorded is `cli`.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { parseStrategy, parseWeights } from '../core/deployment.ts';
import { NotFoundError, UserError } from '../core/errors.ts';
import type { DeploymentsApi, DeploymentView } from '../runtime/deployments.ts';
import { CONFIG_FLAG, withProject } from './app.ts';

const BY = 'cli';
type Opts = { json?: boolean; config?: string; agent?: string };

/** Run `fn` on the deployments API; a UserError or NotFoundError is a usage error (exit 2). */
async function withDeployments<T>(
  config: string | undefined,
  fn: (d: DeploymentsApi) => Promise<T>,
): Promise<T> {
  return withProject(config, { workers: false }, async (project) => {
    try {
      return await fn(project.system.deployments);
    } catch (error) {
      if (error instanceof UserError || error instanceof NotFoundError)
        throw new InvalidArgumentError(error.message);
      throw error;
    }
  });
}

const keepOf = (v: string): number => {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new InvalidArgumentError(`--keep must be an integer ≥ 1, got "${v}"`);
  return Number(v);
};

const weightsText = (w: Record<string, number>): string =>
  Object.entries(w)
    .map(([v, n]) => `${v}=${n}`)
    .join(',') || '—';

/** A deployment and the timeline of its steps with each reason. */
export function formatDeployment(d: DeploymentView): string {
  const lines = [
    `${d.deploymentId}  ${d.agent}/${d.alias}  ${d.from} → ${d.to}  ${d.strategy}  ${d.status}  by ${d.createdBy}`,
  ];
  for (const s of d.steps)
    lines.push(`  ${s.at}  ${s.decision.padEnd(16)} ${weightsText(s.weights).padEnd(16)} ${s.reason}`);
  return lines.join('\n');
}

const jsonOpt = (c: Command, what: string) => c.option('--json', what).option(...CONFIG_FLAG);

export function registerDeploymentCommands(program: Command): void {
  const versions = program.command('versions').description('published agent versions: list, prune');
  jsonOpt(
    versions
      .command('list')
      .description('every published version, its aliases and runs in flight')
      .option('--agent <a>', 'one agent'),
    'print { "versions": [...] }',
  ).action(async (o: Opts) =>
    withDeployments(o.config, async (d) => {
      const list = await d.versions(o.agent);
      if (o.json) return void console.log(JSON.stringify({ versions: list }));
      if (list.length === 0) return void console.log('no published versions');
      for (const v of list)
        console.log(
          `${v.agent}@${v.version}  ${v.digest}  ${v.labeled ? 'labeled' : 'digest'}  ${v.aliases.map((a) => `${a.alias}=${a.weight}`).join(',') || '—'}  in flight ${v.inFlight}  ${v.served ? 'served' : 'not served'}  ${v.createdAt}`,
        );
    }),
  );
  jsonOpt(
    versions
      .command('prune')
      .description('delete versions nothing uses beyond the newest N')
      .requiredOption('--keep <n>', 'keep the newest N per agent', keepOf)
      .option('--dry-run', 'only say what would go')
      .option('--agent <a>', 'one agent'),
    'print { "pruned", "kept", "dryRun" }',
  ).action(async (o: Opts & { keep: number; dryRun?: boolean }) =>
    withDeployments(o.config, async (d) => {
      const r = await d.prune({
        keep: o.keep,
        dryRun: o.dryRun === true,
        ...(o.agent ? { agent: o.agent } : {}),
      });
      if (o.json) return void console.log(JSON.stringify(r));
      for (const p of r.pruned) console.log(`${r.dryRun ? 'would prune' : 'pruned'} ${p.agent}@${p.version}`);
      for (const k of r.kept) console.log(`kept ${k.agent}@${k.version}: ${k.reason}`);
    }),
  );
  const aliases = program.command('aliases').description('alias weights over labeled versions: list, set');
  jsonOpt(
    aliases.command('list').description('every alias and its weights').option('--agent <a>', 'one agent'),
    'print { "aliases": [...] }',
  ).action(async (o: Opts) =>
    withDeployments(o.config, async (d) => {
      const list = await d.aliases(o.agent);
      if (o.json) return void console.log(JSON.stringify({ aliases: list }));
      if (list.length === 0) return void console.log('no aliases');
      for (const a of list)
        console.log(
          `${a.agent}/${a.alias}  ${weightsText(a.weights)}${a.implicit ? '  (implicit)' : `  ${a.updatedAt ?? ''} by ${a.updatedBy ?? '?'}`}`,
        );
    }),
  );
  jsonOpt(
    aliases
      .command('set')
      .description("set an alias's weights")
      .argument('<agent>')
      .argument('<alias>')
      .argument('<weights>', '<version>=<weight>[,<version>=<weight>], summing to 100'),
    'print the alias',
  ).action(async (agent: string, alias: string, text: string, o: Opts) =>
    withDeployments(o.config, async (d) => {
      const a = await d.setAlias(agent, alias, parseWeights(text), BY);
      console.log(o.json ? JSON.stringify(a) : `${a.agent}/${a.alias}  ${weightsText(a.weights)}`);
    }),
  );
  jsonOpt(
    program
      .command('deploy')
      .description('start a deployment of a version')
      .argument('<agent>')
      .requiredOption('--to <version>', 'the published labeled version')
      .requiredOption(
        '--strategy <s>',
        'all-at-once | canary:<pct>:<bake> | linear:<pct>:<every> | shadow:<pct>:<duration>',
      )
      .option('--alias <alias>', 'the alias it moves', 'live'),
    'print { "deploymentId", "status" }',
  ).action(async (agent: string, o: Opts & { to: string; strategy: string; alias: string }) => {
    try {
      parseStrategy(o.strategy);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
    await withDeployments(o.config, async (d) => {
      const r = await d.deploy({ agent, to: o.to, strategy: o.strategy, alias: o.alias, by: BY });
      console.log(o.json ? JSON.stringify(r) : `deployment ${r.deploymentId} ${r.status}`);
    });
  });
  const deployments = program
    .command('deployments')
    .description('deployments: list, show, promote, pause, resume, rollback');
  const list = async (o: Opts) =>
    withDeployments(o.config, async (d) => {
      const all = await d.list(o.agent ? { agent: o.agent } : {});
      if (o.json) return void console.log(JSON.stringify({ deployments: all }));
      if (all.length === 0) return void console.log('no deployments');
      for (const x of all)
        console.log(
          `${x.deploymentId}  ${x.agent}/${x.alias}  ${x.from} → ${x.to}  ${x.strategy}  ${x.status}  ${x.updatedAt}`,
        );
    });
  jsonOpt(deployments.option('--agent <a>', 'one agent'), 'print { "deployments": [...] }').action(list);
  jsonOpt(
    deployments.command('list').description('every deployment').option('--agent <a>', 'one agent'),
    'print { "deployments": [...] }',
  ).action((o: Opts) => list({ ...deployments.opts<Opts>(), ...o }));
  jsonOpt(
    deployments.command('show').description('a deployment and the timeline of its steps').argument('<id>'),
    'print the deployment',
  ).action(async (id: string, o: Opts) =>
    withDeployments({ ...deployments.opts<Opts>(), ...o }.config, async (d) => {
      o = { ...deployments.opts<Opts>(), ...o };
      const v = await d.get(id);
      console.log(o.json ? JSON.stringify(v) : formatDeployment(v));
    }),
  );
  for (const verb of ['promote', 'pause', 'resume', 'rollback'] as const)
    jsonOpt(
      deployments.command(verb).description(`${verb} a deployment`).argument('<id>'),
      'print the deployment',
    ).action(async (id: string, o: Opts) =>
      withDeployments({ ...deployments.opts<Opts>(), ...o }.config, async (d) => {
        o = { ...deployments.opts<Opts>(), ...o };
        const v = await d[verb](id, BY);
        console.log(o.json ? JSON.stringify(v) : formatDeployment(v));
      }),
    );
}

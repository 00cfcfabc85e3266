/**
 * `system.deployments`: published versions, aliases, deployments and per-version figures — the
 * API behind the CLI (`switchboard versions|aliases|deploy|deployments`), the HTTP routes and the
 * console. Operator actions (deploy, promote, pause, resume, rollback, aliases set) write the
 * store directly by compare-and-set, so a CLI process without workers can issue them; the
 * driver (runtime/deployment-driver.ts) in a process with workers moves the deployment on.
 *
 * Wiring (src/system.ts):
 * @example
 * const deployments = createDeployments({
 *   store, engine, options: options.deployments ?? {}, owner, newId, onError, onWarning: warn,
 *   servedLocally: () => servedKeysOfThisProcess, // e.g. ['commerce@v2', 'support']
 *   shadowReport, // optional (runtime/shadow.ts)
 * });
 * // start(): after publishing versions and announcing, when workers run: deployments.start()
 * // stop():  await deployments.stop() before the pools stop.
 */
import {
  checkWeights,
  parseStrategy,
  phaseOf,
  resolveDeploymentOptions,
  type DeploymentOptions,
  type Figures,
} from '../core/deployment.ts';
import { ConflictError, NotFoundError, UserError } from '../core/errors.ts';
import type { DeploymentRecord, DeploymentStatus } from '../store/deployment-port.ts';
import type { Store } from '../store/ports.ts';
import { createDeploymentCatalog } from './deployment-catalog.ts';
import { DeploymentDriver, startWeightsOf, writeStep } from './deployment-driver.ts';
import type { ValidationEngine } from './deployment-validation.ts';
import {
  aliasView,
  checkAliasName,
  deploymentView,
  heaviest,
  type AliasView,
  type DeploymentView,
  type PruneResult,
  type VersionView,
} from './deployment-views.ts';
import { LIVE_ALIAS, unservedVersions } from './versions.ts';

export { FIGURES_WINDOW_MS } from './deployment-catalog.ts';
export { deploymentView, heaviest } from './deployment-views.ts';
export type {
  AliasView,
  DeploymentStepView,
  DeploymentView,
  PruneResult,
  VersionView,
} from './deployment-views.ts';

export interface DeploymentsApi {
  versions(agent?: string): Promise<VersionView[]>;
  prune(o: { keep: number; dryRun?: boolean; agent?: string }): Promise<PruneResult>;
  aliases(agent?: string): Promise<AliasView[]>;
  setAlias(agent: string, alias: string, weights: Record<string, number>, by: string): Promise<AliasView>;
  deploy(o: {
    agent: string;
    to: string;
    strategy: string;
    alias?: string;
    by: string;
  }): Promise<{ deploymentId: string; status: DeploymentStatus }>;
  list(o?: { agent?: string }): Promise<DeploymentView[]>;
  get(id: string): Promise<DeploymentView>;
  promote(id: string, by: string): Promise<DeploymentView>;
  pause(id: string, by: string): Promise<DeploymentView>;
  resume(id: string, by: string): Promise<DeploymentView>;
  rollback(id: string, by: string): Promise<DeploymentView>;
  figures(agent: string, o?: { sinceMs?: number }): Promise<{ version: string; figures: Figures }[]>;
  unserved(): Promise<{ agent: string; version: string; reason: string }[]>;
  /** Drive deployments in this process (system.start, when workers run). */
  start(): void;
  stop(): Promise<void>;
  /** One evaluation of every deployment now (tests, and `start`'s timer). */
  tick(): Promise<void>;
}

export interface DeploymentsDeps {
  store: Store;
  engine: ValidationEngine & { selection?: { invalidate(): void } };
  options?: DeploymentOptions;
  /** This process's id: the lease owner of the deployments it drives. */
  owner: string;
  newId: (prefix: string) => string;
  onError?: (error: unknown) => void;
  onWarning?: (message: string) => void;
  /** Keys this process's workers serve (`name@version`, or a plain name). */
  servedLocally?: () => Iterable<string>;
  /** A shadow deployment's report (runtime/shadow.ts): journaled when it ends, shown in its view. */
  shadowReport?: (d: DeploymentRecord) => Promise<unknown>;
}

/** Create the deployments API (and its driver) of a system. */
export function createDeployments(deps: DeploymentsDeps): DeploymentsApi {
  const { store, engine } = deps;
  const options = resolveDeploymentOptions(deps.options);
  const onError = deps.onError ?? ((e: unknown) => console.error('[switchboard]', e));
  const servedLocally = deps.servedLocally ?? (() => []);
  const changed = (): void => engine.selection?.invalidate();
  const driver = new DeploymentDriver({
    store,
    engine,
    options,
    owner: deps.owner,
    onError,
    onWarning: deps.onWarning ?? ((m: string) => console.warn(m)),
    servedLocally,
    ...(deps.shadowReport ? { shadowReport: deps.shadowReport } : {}),
    changed,
  });

  const catalog = createDeploymentCatalog({ store, engine, servedLocally });

  const load = async (id: string): Promise<DeploymentRecord> => {
    const d = typeof id === 'string' ? await store.deployments.deployment(id) : null;
    if (!d) throw new NotFoundError(`deployment ${String(id)} not found`);
    return d;
  };

  const view = async (d: DeploymentRecord): Promise<DeploymentView> => {
    const finished = d.steps.find((s) => s.decision === 'shadow_finished');
    if (d.strategy.startsWith('shadow:'))
      return deploymentView(
        d,
        finished?.metrics ?? (deps.shadowReport ? await deps.shadowReport(d) : undefined),
      );
    return deploymentView(d);
  };

  /**
   * An operator action: check it applies, write its step by CAS, retrying on a concurrent write
   * (the driver's tick) with the record read again.
   */
  const operate = async (id: string, by: string, act: OperatorAct): Promise<DeploymentView> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = await load(id);
      const { status, alias, ...step } = act(d, by);
      const out = await writeStep(store, d, step, status, { alias, by });
      if (out) {
        changed();
        return view(out);
      }
    }
    throw new ConflictError('changed', id, `deployment ${id} kept changing; try again`);
  };

  return {
    versions: (agent) => catalog.versions(agent),
    prune: (o) => catalog.prune(o),
    aliases: (agent) => catalog.aliases(agent),
    figures: (agent, o) => catalog.figures(agent, o),

    async setAlias(agent, alias, weights, by) {
      if (!(await catalog.agentKnown(agent))) throw new NotFoundError(`unknown agent "${agent}"`);
      checkAliasName(alias);
      const checked = await labeledWeights(store, agent, weights);
      const busy = await store.deployments.deployments({ agent, active: true });
      const mine = busy.find((d) => d.alias === alias);
      if (mine)
        throw new ConflictError(
          'busy',
          mine.deploymentId,
          `deployment ${mine.deploymentId} is moving ${agent}/${alias}: roll it back or wait for it to end`,
        );
      for (let attempt = 0; attempt < 20; attempt++) {
        const current = await store.deployments.alias(agent, alias);
        const stored = await store.deployments.setAlias(
          { agent, alias, weights: checked, updatedAt: store.now(), updatedBy: by },
          current?.rev ?? null,
        );
        if (stored) {
          changed();
          return aliasView(stored);
        }
      }
      throw new ConflictError('changed', agent, `alias ${agent}/${alias} kept changing; try again`);
    },

    async deploy(o) {
      const alias = o.alias ?? LIVE_ALIAS;
      if (typeof o.agent !== 'string' || !(await catalog.agentKnown(o.agent)))
        throw new UserError(`agent: unknown agent "${String(o.agent)}"`, 'agent');
      checkAliasName(alias);
      parseStrategy(o.strategy);
      const all = await store.deployments.versions(o.agent);
      const target = all.find((v) => v.version === o.to);
      if (!target) throw new UserError(`to: ${o.agent} has no published version "${String(o.to)}"`, 'to');
      if (!target.labeled)
        throw new UserError(
          'to: only labeled versions (defineAgent version) can take weighted traffic',
          'to',
        );
      const start = (await catalog.weightsOf(o.agent, alias))?.weights ?? {};
      const from = heaviest(start);
      if (from === undefined)
        throw new UserError(`alias ${o.agent}/${alias} gives no version any weight`, 'alias');
      if (from === o.to)
        throw new UserError(`to: ${o.agent}@${o.to} already has the most weight in ${alias}`, 'to');
      const record = newDeployment({ ...o, alias, from, start }, deps.newId('dep'), store.now());
      if (!(await store.deployments.createDeployment(record))) {
        const other = (await store.deployments.deployments({ agent: o.agent, active: true })).find(
          (d) => d.alias === alias,
        );
        throw new ConflictError(
          'busy',
          other?.deploymentId ?? o.agent,
          `deployment ${other?.deploymentId ?? ''} of ${o.agent}/${alias} is still active: wait for it, or roll it back`,
        );
      }
      changed();
      return { deploymentId: record.deploymentId, status: record.status };
    },

    async list(o = {}) {
      const records = await store.deployments.deployments(o.agent ? { agent: o.agent } : {});
      return Promise.all(records.map(view));
    },

    get: async (id) => view(await load(id)),
    promote: (id, by) => operate(id, by, promoteStep),
    pause: (id, by) => operate(id, by, pauseStep),
    resume: (id, by) => operate(id, by, resumeStep),
    rollback: (id, by) => operate(id, by, rollbackStep),
    unserved: () => unservedVersions(store, store.now(), servedLocally()),
    start: () => driver.start(),
    stop: () => driver.stop(),
    tick: () => driver.tick(),
  };
}

/** An alias's weights, checked: only the agent's labeled versions take weighted traffic. */
async function labeledWeights(
  store: Store,
  agent: string,
  weights: Record<string, number>,
): Promise<Record<string, number>> {
  const all = await store.deployments.versions(agent);
  const known = new Set(all.filter((v) => v.labeled).map((v) => v.version));
  for (const version of Object.keys(weights ?? {}))
    if (!known.has(version) && all.some((v) => v.version === version))
      throw new UserError('only labeled versions (defineAgent version) can take weighted traffic', 'weights');
  return checkWeights(weights, known);
}

/** The first record of a deployment: in progress, its `started` step at the alias's weights. */
function newDeployment(
  o: {
    agent: string;
    alias: string;
    from: string;
    to: string;
    strategy: string;
    by: string;
    start: Record<string, number>;
  },
  deploymentId: string,
  now: number,
): DeploymentRecord {
  const strategy = o.strategy.trim();
  return {
    deploymentId,
    agent: o.agent,
    alias: o.alias,
    from: o.from,
    to: o.to,
    strategy,
    status: 'in_progress',
    steps: [
      {
        at: now,
        weights: o.start,
        metrics: null,
        decision: 'started',
        reason: `${o.from} → ${o.to} (${strategy}) by ${o.by}`,
      },
    ],
    state: { startWeights: o.start },
    createdAt: now,
    updatedAt: now,
    createdBy: o.by,
    rev: 1,
    owner: null,
    leaseUntil: null,
  };
}

/** The step an operator action writes (or a UserError when it does not apply to the record). */
type OperatorAct = (
  d: DeploymentRecord,
  by: string,
) => Parameters<typeof writeStep>[2] & { status: DeploymentStatus; alias: boolean };

function active(d: DeploymentRecord, what: string): void {
  if (d.status !== 'in_progress' && d.status !== 'paused')
    throw new UserError(`cannot ${what} deployment ${d.deploymentId}: it is ${d.status}`, 'status');
}

const promoteStep: OperatorAct = (d, by) => {
  active(d, 'promote');
  if (d.strategy.startsWith('shadow:'))
    throw new UserError('a shadow deployment never moves traffic: nothing to promote', 'strategy');
  const last = phaseOf(d).last;
  if (last === 'promoted' || last === 'post_validated' || last === 'alarm' || last === 'validation_failed')
    throw new UserError(`cannot promote deployment ${d.deploymentId}: its last step is ${last}`, 'status');
  return {
    weights: { [d.to]: 100 },
    metrics: null,
    decision: 'promoted',
    reason: `promoted by ${by}`,
    status: 'in_progress',
    alias: true,
  };
};

const pauseStep: OperatorAct = (d, by) => {
  if (d.status !== 'in_progress')
    throw new UserError(`cannot pause deployment ${d.deploymentId}: it is ${d.status}`, 'status');
  return {
    weights: d.steps.at(-1)?.weights ?? {},
    metrics: null,
    decision: 'paused',
    reason: `paused by ${by}`,
    status: 'paused',
    alias: false,
  };
};

const resumeStep: OperatorAct = (d, by) => {
  if (d.status !== 'paused')
    throw new UserError(`cannot resume deployment ${d.deploymentId}: it is ${d.status}`, 'status');
  return {
    weights: d.steps.at(-1)?.weights ?? {},
    metrics: null,
    decision: 'resumed',
    reason: `resumed by ${by}`,
    status: 'in_progress',
    alias: false,
  };
};

const rollbackStep: OperatorAct = (d, by) => {
  active(d, 'roll back');
  return {
    weights: startWeightsOf(d),
    metrics: null,
    decision: 'rolled_back',
    reason: `rolled back by ${by}`,
    status: 'rolled_back',
    alias: true,
  };
};

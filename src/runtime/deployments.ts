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
import { TERMINAL_STATUSES, RUN_STATUSES } from '../core/run-state.ts';
import type {
  AliasRecord,
  DeploymentRecord,
  DeploymentStatus,
  VersionRecord,
} from '../store/deployment-port.ts';
import type { Store } from '../store/ports.ts';
import { versionFigures } from '../telemetry/version-figures.ts';
import { versionKey } from './agents.ts';
import { DeploymentDriver, startWeightsOf, writeStep } from './deployment-driver.ts';
import type { ValidationEngine } from './deployment-validation.ts';
import { LIVE_ALIAS, servedKeys, unservedVersions } from './versions.ts';

export interface VersionView {
  agent: string;
  version: string;
  digest: string;
  labeled: boolean;
  source: string | null;
  createdAt: string;
  aliases: { alias: string; weight: number }[];
  inFlight: number;
  served: boolean;
  local: boolean;
}

export interface AliasView {
  agent: string;
  alias: string;
  weights: Record<string, number>;
  /** True when no alias is stored yet: the first published labeled version takes the traffic. */
  implicit: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface DeploymentStepView {
  at: string;
  weights: Record<string, number>;
  metrics: unknown;
  decision: string;
  reason: string;
}

export interface DeploymentView {
  deploymentId: string;
  agent: string;
  alias: string;
  from: string;
  to: string;
  strategy: string;
  status: DeploymentStatus;
  steps: DeploymentStepView[];
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  /** The shadow report of a shadow deployment (core/shadow-report.ts). */
  shadow?: unknown;
}

export interface PruneResult {
  pruned: { agent: string; version: string }[];
  kept: { agent: string; version: string; reason: string }[];
  dryRun: boolean;
}

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

/** Default window of {@link DeploymentsApi.figures}: the last hour. */
export const FIGURES_WINDOW_MS = 3_600_000;
const ACTIVE_RUN_STATUSES = RUN_STATUSES.filter((s) => !TERMINAL_STATUSES.has(s));
const iso = (ms: number): string => new Date(ms).toISOString();

export function deploymentView(d: DeploymentRecord, shadow?: unknown): DeploymentView {
  return {
    deploymentId: d.deploymentId,
    agent: d.agent,
    alias: d.alias,
    from: d.from,
    to: d.to,
    strategy: d.strategy,
    status: d.status,
    steps: d.steps.map((s) => ({
      at: iso(s.at),
      weights: s.weights,
      metrics: s.metrics,
      decision: s.decision,
      reason: s.reason,
    })),
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    createdBy: d.createdBy,
    ...(shadow !== undefined ? { shadow } : {}),
  };
}

const aliasView = (a: AliasRecord): AliasView => ({
  agent: a.agent,
  alias: a.alias,
  weights: a.weights,
  implicit: false,
  updatedAt: iso(a.updatedAt),
  updatedBy: a.updatedBy,
});

/** The version with the most weight (ties: the first by name). */
export function heaviest(weights: Readonly<Record<string, number>>): string | undefined {
  return Object.entries(weights)
    .filter(([, w]) => w > 0)
    .sort(([a, wa], [b, wb]) => wb - wa || (a < b ? -1 : 1))[0]?.[0];
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

  const labeledVersions = async (agent: string): Promise<VersionRecord[]> =>
    (await store.deployments.versions(agent)).filter((v) => v.labeled);

  const agentKnown = async (agent: string): Promise<boolean> =>
    engine.agents.has(agent) || (await store.deployments.versions(agent)).length > 0;

  /** The alias's weights; an absent `live` alias is materialized as the routing does (runtime/versions.ts). */
  const weightsOf = async (agent: string, alias: string): Promise<AliasRecord | null> => {
    const stored = await store.deployments.alias(agent, alias);
    if (stored || alias !== LIVE_ALIAS) return stored;
    const first = (await labeledVersions(agent))[0]?.version;
    if (first === undefined) return null;
    const base = { agent, alias, weights: { [first]: 100 }, updatedAt: store.now(), updatedBy: 'system' };
    return (await store.deployments.setAlias(base, null)) ?? store.deployments.alias(agent, alias);
  };

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
  const operate = async (
    id: string,
    by: string,
    act: (
      d: DeploymentRecord,
    ) => Parameters<typeof writeStep>[2] & { status: DeploymentStatus; alias: boolean },
  ): Promise<DeploymentView> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = await load(id);
      const { status, alias, ...step } = act(d);
      const out = await writeStep(store, d, step, status, { alias, by });
      if (out) {
        changed();
        return view(out);
      }
    }
    throw new ConflictError(id, -1, `deployment ${id} kept changing; try again`);
  };

  const active = (d: DeploymentRecord, what: string): void => {
    if (d.status !== 'in_progress' && d.status !== 'paused')
      throw new UserError(`cannot ${what} deployment ${d.deploymentId}: it is ${d.status}`, 'status');
  };

  const api: DeploymentsApi = {
    async versions(agent) {
      const now = store.now();
      const records = await store.deployments.versions(agent);
      const aliases = await store.deployments.aliases(agent);
      const served = await servedKeys(store, now);
      for (const k of servedLocally()) served.add(k);
      const out: VersionView[] = [];
      for (const v of records) {
        const key = versionKey(v.agent, v.labeled ? v.version : undefined);
        const local = engine.versions.get(key);
        out.push({
          agent: v.agent,
          version: v.version,
          digest: v.digest,
          labeled: v.labeled,
          source: v.source,
          createdAt: iso(v.createdAt),
          aliases: aliases
            .filter((a) => a.agent === v.agent && (a.weights[v.version] ?? 0) > 0)
            .map((a) => ({ alias: a.alias, weight: a.weights[v.version] ?? 0 })),
          inFlight: await inFlight(v),
          served: served.has(key),
          local: local !== undefined && local.digest === v.digest,
        });
      }
      return out;
    },

    async prune(o) {
      const keep = o.keep;
      if (!Number.isInteger(keep) || keep < 0) throw new UserError('keep must be an integer ≥ 0', 'keep');
      const dryRun = o.dryRun === true;
      const records = await store.deployments.versions(o.agent);
      const aliases = await store.deployments.aliases(o.agent);
      const deploying = await store.deployments.deployments({
        active: true,
        ...(o.agent ? { agent: o.agent } : {}),
      });
      const pruned: PruneResult['pruned'] = [];
      const kept: PruneResult['kept'] = [];
      const byAgent = new Map<string, VersionRecord[]>();
      for (const v of records) byAgent.set(v.agent, [...(byAgent.get(v.agent) ?? []), v]);
      for (const [agent, list] of byAgent) {
        const newest = new Set(
          [...list]
            .sort((a, b) => b.createdAt - a.createdAt || (a.version < b.version ? 1 : -1))
            .slice(0, keep)
            .map((v) => v.version),
        );
        for (const v of list) {
          const reason = await keepReason(v, newest, aliases, deploying, keep);
          if (reason) kept.push({ agent, version: v.version, reason });
          else {
            if (!dryRun) await store.deployments.deleteVersion(agent, v.version);
            pruned.push({ agent, version: v.version });
          }
        }
      }
      return { pruned, kept, dryRun };
    },

    async aliases(agent) {
      const stored = (await store.deployments.aliases(agent)).map(aliasView);
      const agents = new Set(
        (await store.deployments.versions(agent)).filter((v) => v.labeled).map((v) => v.agent),
      );
      for (const a of agents) {
        if (stored.some((s) => s.agent === a && s.alias === LIVE_ALIAS)) continue;
        const first = (await labeledVersions(a))[0]?.version;
        if (first !== undefined)
          stored.push({
            agent: a,
            alias: LIVE_ALIAS,
            weights: { [first]: 100 },
            implicit: true,
            updatedAt: null,
            updatedBy: null,
          });
      }
      return stored;
    },

    async setAlias(agent, alias, weights, by) {
      if (!(await agentKnown(agent))) throw new NotFoundError(`unknown agent "${agent}"`);
      checkAliasName(alias);
      const labeled = await labeledVersions(agent);
      const known = new Set(labeled.map((v) => v.version));
      for (const version of Object.keys(weights ?? {}))
        if (
          !known.has(version) &&
          (await store.deployments.versions(agent)).some((v) => v.version === version)
        )
          throw new UserError(
            'only labeled versions (defineAgent version) can take weighted traffic',
            'weights',
          );
      const checked = checkWeights(weights, known);
      const busy = await store.deployments.deployments({ agent, active: true });
      const mine = busy.find((d) => d.alias === alias);
      if (mine)
        throw new ConflictError(
          mine.deploymentId,
          -1,
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
      throw new ConflictError(agent, -1, `alias ${agent}/${alias} kept changing; try again`);
    },

    async deploy(o) {
      const alias = o.alias ?? LIVE_ALIAS;
      if (typeof o.agent !== 'string' || !(await agentKnown(o.agent)))
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
      const current = await weightsOf(o.agent, alias);
      const start = current?.weights ?? {};
      const from = heaviest(start);
      if (from === undefined)
        throw new UserError(`alias ${o.agent}/${alias} gives no version any weight`, 'alias');
      if (from === o.to)
        throw new UserError(`to: ${o.agent}@${o.to} already has the most weight in ${alias}`, 'to');
      const now = store.now();
      const record: DeploymentRecord = {
        deploymentId: deps.newId('dep'),
        agent: o.agent,
        alias,
        from,
        to: o.to,
        strategy: o.strategy.trim(),
        status: 'in_progress',
        steps: [
          {
            at: now,
            weights: start,
            metrics: null,
            decision: 'started',
            reason: `${from} → ${o.to} (${o.strategy.trim()}) by ${o.by}`,
          },
        ],
        state: { startWeights: start },
        createdAt: now,
        updatedAt: now,
        createdBy: o.by,
        rev: 1,
        owner: null,
        leaseUntil: null,
      };
      if (!(await store.deployments.createDeployment(record))) {
        const other = (await store.deployments.deployments({ agent: o.agent, active: true })).find(
          (d) => d.alias === alias,
        );
        throw new ConflictError(
          other?.deploymentId ?? o.agent,
          -1,
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

    promote: (id, by) =>
      operate(id, by, (d) => {
        active(d, 'promote');
        if (d.strategy.startsWith('shadow:'))
          throw new UserError('a shadow deployment never moves traffic: nothing to promote', 'strategy');
        const last = phaseOf(d).last;
        if (
          last === 'promoted' ||
          last === 'post_validated' ||
          last === 'alarm' ||
          last === 'validation_failed'
        )
          throw new UserError(
            `cannot promote deployment ${d.deploymentId}: its last step is ${last}`,
            'status',
          );
        return {
          weights: { [d.to]: 100 },
          metrics: null,
          decision: 'promoted',
          reason: `promoted by ${by}`,
          status: 'in_progress',
          alias: true,
        };
      }),

    pause: (id, by) =>
      operate(id, by, (d) => {
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
      }),

    resume: (id, by) =>
      operate(id, by, (d) => {
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
      }),

    rollback: (id, by) =>
      operate(id, by, (d) => {
        active(d, 'roll back');
        return {
          weights: startWeightsOf(d),
          metrics: null,
          decision: 'rolled_back',
          reason: `rolled back by ${by}`,
          status: 'rolled_back',
          alias: true,
        };
      }),

    async figures(agent, o = {}) {
      const since = store.now() - (o.sinceMs ?? FIGURES_WINDOW_MS);
      const records = await store.deployments.versions(agent);
      const local = engine.agents.get(agent);
      // Runs of an unlabeled agent carry no version: they count for its current (local or newest) digest.
      const unlabeled =
        local && !local.labeled ? local.digest : records.filter((v) => !v.labeled).at(-1)?.version;
      const out: { version: string; figures: Figures }[] = [];
      for (const v of records) {
        if (!v.labeled && v.version !== unlabeled) continue;
        out.push({
          version: v.version,
          figures: await versionFigures(store, { agent, version: v.labeled ? v.version : null, since }),
        });
      }
      return out;
    },

    unserved: () => unservedVersions(store, store.now(), servedLocally()),
    start: () => driver.start(),
    stop: () => driver.stop(),
    tick: () => driver.tick(),
  };

  /** Runs of a version not ended yet (an unlabeled digest: every unversioned active run of its agent). */
  async function inFlight(v: VersionRecord): Promise<number> {
    let n = 0;
    for (const status of ACTIVE_RUN_STATUSES) {
      const rows = await store.runs.list({
        agent: v.agent,
        status,
        ...(v.labeled ? { version: v.version } : {}),
      });
      n += v.labeled ? rows.length : rows.filter((r) => (r.version ?? null) === null).length;
    }
    return n;
  }

  async function keepReason(
    v: VersionRecord,
    newest: ReadonlySet<string>,
    aliases: readonly AliasRecord[],
    deploying: readonly DeploymentRecord[],
    keep: number,
  ): Promise<string | null> {
    const referenced = aliases.find((a) => a.agent === v.agent && (a.weights[v.version] ?? 0) > 0);
    if (referenced) return `alias ${referenced.alias} gives it ${referenced.weights[v.version]}%`;
    // No stored live alias yet: routing would give the first labeled version all the traffic.
    if (v.labeled && !aliases.some((a) => a.agent === v.agent && a.alias === LIVE_ALIAS)) {
      const first = (await labeledVersions(v.agent))[0]?.version;
      if (first === v.version) return `alias ${LIVE_ALIAS} (implicit) gives it 100%`;
    }
    const dep = deploying.find((d) => d.agent === v.agent && (d.from === v.version || d.to === v.version));
    if (dep) return `active deployment ${dep.deploymentId}`;
    const n = await inFlight(v);
    if (n > 0) return `${n} run(s) in flight`;
    if (newest.has(v.version)) return `among the newest ${keep}`;
    return null;
  }

  return api;
}

function checkAliasName(alias: unknown): void {
  if (typeof alias !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(alias))
    throw new UserError(`alias "${String(alias)}" must match [A-Za-z0-9][A-Za-z0-9._-]{0,39}`, 'alias');
}

/**
 * The deployment driver: a thin loop around `decideDeployment` (core/deployment.ts). Every
 * process whose system runs workers ticks every `deployments.evaluateEveryMs`; for each active
 * deployment whose `to` version it has configured, it takes the lease (`owner`, `leaseUntil`) by
 * compare-and-set, computes the figures the decision needs, and writes the one step it decides —
 * each step its own CAS write on the record's `rev`, a shift writing the alias in the same
 * transaction. A driver that loses a CAS stops and reads again next tick: two drivers never write
 * the same step. When the owner dies its lease lapses and another process continues at the same
 * step; bake timers come from the steps' `at`, so the window is neither restarted nor skipped.
 */
import {
  decideDeployment,
  judgeWindow,
  type DeploymentAction,
  type FigurePair,
  type ResolvedDeploymentOptions,
  type TrippedAlarm,
} from '../core/deployment.ts';
import type { DeploymentRecord, DeploymentStatus, DeploymentStep } from '../store/deployment-port.ts';
import type { Store } from '../store/ports.ts';
import { versionFigures } from '../telemetry/version-figures.ts';
import { versionKey } from './agents.ts';
import type { ValidationEngine } from './deployment-validation.ts';
import { unservedVersions } from './versions.ts';

/** Old figures fall back to this many of its last finished runs when the window has too few. */
export const OLD_BASELINE_RUNS = 200;
/** Most steps one tick writes for one deployment (a tick never spins). */
const MAX_STEPS_PER_TICK = 8;

export interface DriverDeps {
  store: Store;
  engine: ValidationEngine;
  options: ResolvedDeploymentOptions;
  /** This process's id (the lease owner). */
  owner: string;
  onError: (error: unknown) => void;
  onWarning: (message: string) => void;
  /** Keys (`name@version`, or a plain name) this process's workers serve. */
  servedLocally: () => Iterable<string>;
  /** The shadow report of a shadow deployment (runtime/shadow.ts), journaled when it finishes. */
  shadowReport?: (d: DeploymentRecord) => Promise<unknown>;
  /** Called after every write (aliases changed: caches must go). */
  changed: () => void;
}

/** The weights a deployment started from: where a rollback returns the alias. */
export function startWeightsOf(d: DeploymentRecord): Record<string, number> {
  const w = d.state.startWeights;
  if (w && typeof w === 'object') return { ...(w as Record<string, number>) };
  return { ...(d.steps[0]?.weights ?? { [d.from]: 100 }) };
}

/** The alias weights the deployment last wrote (or started from). */
export function currentWeightsOf(d: DeploymentRecord): Record<string, number> {
  return { ...(d.steps.at(-1)?.weights ?? startWeightsOf(d)) };
}

/**
 * Write one step by CAS on `d.rev` (with the alias's weights when `alias`), renewing this
 * process's lease when `owner` is given. Null when another writer got there first.
 */
export async function writeStep(
  store: Store,
  d: DeploymentRecord,
  step: Omit<DeploymentStep, 'at'>,
  status: DeploymentStatus,
  o: { alias?: boolean; by: string; owner?: string; leaseMs?: number },
): Promise<DeploymentRecord | null> {
  const now = store.now();
  const next: DeploymentRecord = {
    ...d,
    steps: [...d.steps, { at: now, ...step }],
    status,
    updatedAt: now,
    ...(o.owner !== undefined ? { owner: o.owner, leaseUntil: now + (o.leaseMs ?? 0) } : {}),
  };
  return store.deployments.updateDeployment(
    next,
    d.rev,
    o.alias ? { weights: step.weights, by: o.by } : undefined,
  );
}

/** The new and old versions' figures over the window since `since`. */
export async function figurePair(
  store: Store,
  d: Pick<DeploymentRecord, 'agent' | 'from' | 'to'>,
  since: number,
  minRuns: number,
): Promise<FigurePair> {
  const fresh = await versionFigures(store, { agent: d.agent, version: d.to, since });
  const old = await versionFigures(store, { agent: d.agent, version: d.from, since });
  if (old.finished >= minRuns) return { new: fresh, old, since, oldBasis: 'window' };
  const baseline = await versionFigures(store, {
    agent: d.agent,
    version: d.from,
    since: 0,
    limit: OLD_BASELINE_RUNS,
  });
  return { new: fresh, old: baseline, since, oldBasis: 'last-runs' };
}

/** The step metrics of a figure pair: the two sides and what the old side is based on. */
const metricsOf = (f: FigurePair, tripped?: TrippedAlarm[]): Record<string, unknown> => ({
  ...(tripped ? { tripped } : {}),
  new: f.new,
  old: f.old,
  since: new Date(f.since).toISOString(),
  oldBasis: f.oldBasis,
});

export class DeploymentDriver {
  readonly #d: DriverDeps;
  #timer: NodeJS.Timeout | null = null;
  #stopped = true;
  #running: Promise<void> = Promise.resolve();
  readonly #warned = new Set<string>();

  constructor(deps: DriverDeps) {
    this.#d = deps;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.#d.onError(error))
        .finally(() => this.#schedule(this.#d.options.evaluateEveryMs));
    }, delay);
    this.#timer.unref();
  }

  /** Drive every active deployment this process can drive, one tick (one at a time per process). */
  tick(): Promise<void> {
    const run = this.#running.then(async () => {
      const active = await this.#d.store.deployments.deployments({ active: true });
      const unserved = await this.#unserved(active.length > 0);
      for (const d of active) {
        // Validation needs the definition: only a process that has the new version configured drives.
        if (!this.#d.engine.versions.has(versionKey(d.agent, d.to))) continue;
        try {
          await this.#drive(d, unserved);
        } catch (error) {
          this.#d.onError(error);
        }
      }
    });
    this.#running = run.catch(() => {});
    return run;
  }

  async #unserved(any: boolean): Promise<Set<string>> {
    const list = await unservedVersions(this.#d.store, this.#d.store.now(), this.#d.servedLocally());
    const keys = new Set(list.map((u) => versionKey(u.agent, u.version)));
    for (const u of list) {
      const key = versionKey(u.agent, u.version);
      if (!this.#warned.has(key)) this.#d.onWarning(`version_not_served ${key}: ${u.reason}`);
      this.#warned.add(key);
    }
    for (const key of this.#warned) if (!keys.has(key)) this.#warned.delete(key);
    return any ? keys : new Set();
  }

  /** Take or renew the lease by CAS; null when another live driver holds it. */
  async #lease(d: DeploymentRecord): Promise<DeploymentRecord | null> {
    const { store, owner, options } = this.#d;
    const now = store.now();
    if (d.owner === owner && d.leaseUntil !== null && d.leaseUntil - now > options.leaseMs / 2) return d;
    if (d.owner !== null && d.owner !== owner && d.leaseUntil !== null && d.leaseUntil > now) return null;
    // Winning this CAS proves nobody else wrote since we read: the lease is ours until leaseUntil.
    return store.deployments.updateDeployment({ ...d, owner, leaseUntil: now + options.leaseMs }, d.rev);
  }

  async #drive(first: DeploymentRecord, unserved: ReadonlySet<string>): Promise<void> {
    let d = await this.#lease(first);
    for (let i = 0; d && i < MAX_STEPS_PER_TICK; i++) {
      const { options, store } = this.#d;
      const window = judgeWindow(d);
      const figures = window !== null ? await figurePair(store, d, window, options.minRuns) : null;
      let action: DeploymentAction = decideDeployment(d, store.now(), figures, options);
      if (d.status === 'in_progress' && unserved.has(versionKey(d.agent, d.to)) && action.kind !== 'rollback')
        action = { kind: 'rollback', reason: `version_not_served: no live worker serves ${d.agent}@${d.to}` };
      if (action.kind === 'wait') return;
      d = await this.#act(d, action);
    }
  }

  /** Perform one action: one CAS write. Null when the write lost (another writer moved the record). */
  async #act(
    d: DeploymentRecord,
    a: Exclude<DeploymentAction, { kind: 'wait' }>,
  ): Promise<DeploymentRecord | null> {
    const { store, owner, options } = this.#d;
    const lease = { by: `deployment:${d.deploymentId}`, owner, leaseMs: options.leaseMs };
    const start = startWeightsOf(d);
    const current = currentWeightsOf(d);
    let out: DeploymentRecord | null;
    switch (a.kind) {
      case 'validate': {
        // Loaded on first use: validation replays runs (replay/, the routing suite's schema), which
        // a process that never validates a deployment does not need at start.
        const { validateVersion } = await import('./deployment-validation.ts');
        const v = await validateVersion(store, this.#d.engine, d, a.phase, options.validation);
        out = await writeStep(
          store,
          d,
          {
            weights: current,
            metrics: v.metrics,
            decision: v.ok ? (a.phase === 'pre' ? 'validated' : 'post_validated') : 'validation_failed',
            reason: `${a.phase === 'pre' ? 'pre' : 'post'}-traffic validation: ${v.reason}`,
          },
          d.status,
          lease,
        );
        break;
      }
      case 'shift':
        out = await writeStep(
          store,
          d,
          {
            weights: a.shift.weights,
            metrics: null,
            decision: 'shifted',
            reason: `shift ${a.index + 1}: ${a.shift.pct}% to ${d.to}`,
          },
          d.status,
          { ...lease, alias: true },
        );
        break;
      case 'baked': {
        const since = judgeWindow(d);
        const f = since !== null ? await figurePair(store, d, since, options.minRuns) : null;
        out = await writeStep(
          store,
          d,
          {
            weights: current,
            metrics: f ? metricsOf(f) : null,
            decision: 'baked',
            reason: `${a.shift.pct}% baked ${a.shift.bakeMs} ms without an alarm`,
          },
          d.status,
          lease,
        );
        break;
      }
      case 'alarm':
        // The alias goes back with the alarm itself: no more traffic to the new version from here.
        out = await writeStep(
          store,
          d,
          {
            weights: start,
            metrics: metricsOf(a.figures, a.tripped),
            decision: 'alarm',
            reason: a.tripped.map((t) => t.reason).join('; '),
          },
          d.status,
          { ...lease, alias: true },
        );
        break;
      case 'rollback':
        out = await writeStep(
          store,
          d,
          { weights: start, metrics: null, decision: 'rolled_back', reason: a.reason },
          'rolled_back',
          { ...lease, alias: true },
        );
        break;
      case 'shadow-start':
        out = await writeStep(
          store,
          d,
          { weights: current, metrics: null, decision: 'shadow_started', reason: `shadowing ${d.strategy}` },
          d.status,
          lease,
        );
        break;
      case 'shadow-finish': {
        const report = this.#d.shadowReport ? await this.#d.shadowReport(d) : null;
        out = await writeStep(
          store,
          d,
          {
            weights: current,
            metrics: (report ?? null) as Record<string, unknown> | null,
            decision: 'shadow_finished',
            reason: 'shadow window over',
          },
          d.status,
          lease,
        );
        break;
      }
      case 'succeed':
        out = await writeStep(
          store,
          d,
          { weights: current, metrics: null, decision: 'succeeded', reason: `${d.to} serves the alias` },
          'succeeded',
          lease,
        );
        break;
      case 'fail':
        out = await writeStep(
          store,
          d,
          { weights: start, metrics: null, decision: 'failed', reason: a.reason },
          'failed',
          { ...lease, alias: true },
        );
        break;
    }
    if (out) this.#d.changed();
    return out;
  }
}

/**
 * The read side of `system.deployments` (runtime/deployments.ts): published versions with their
 * aliases, runs in flight and who serves them; aliases (an absent `live` alias shown as the
 * routing reads it); per-version figures; and pruning, which deletes only versions nothing needs.
 */
import type { Figures } from '../core/deployment.ts';
import { UserError } from '../core/errors.ts';
import { RUN_STATUSES, TERMINAL_STATUSES } from '../core/run-state.ts';
import type { AliasRecord, DeploymentRecord, VersionRecord } from '../store/deployment-port.ts';
import type { Store } from '../store/ports.ts';
import { versionFigures } from '../telemetry/version-figures.ts';
import { versionKey } from './agents.ts';
import type { ValidationEngine } from './deployment-validation.ts';
import { aliasView, iso, type AliasView, type PruneResult, type VersionView } from './deployment-views.ts';
import { LIVE_ALIAS, servedKeys } from './versions.ts';

/** Default window of {@link DeploymentCatalog.figures}: the last hour. */
export const FIGURES_WINDOW_MS = 3_600_000;
const ACTIVE_RUN_STATUSES = RUN_STATUSES.filter((s) => !TERMINAL_STATUSES.has(s));

/** The read side of the deployments API, and the lookups its operator actions share. */
export interface DeploymentCatalog {
  versions(agent?: string): Promise<VersionView[]>;
  prune(o: { keep: number; dryRun?: boolean; agent?: string }): Promise<PruneResult>;
  aliases(agent?: string): Promise<AliasView[]>;
  figures(agent: string, o?: { sinceMs?: number }): Promise<{ version: string; figures: Figures }[]>;
  /** Configured here, or published by some process. */
  agentKnown(agent: string): Promise<boolean>;
  /** The alias's weights; an absent `live` alias is materialized as the routing does (runtime/versions.ts). */
  weightsOf(agent: string, alias: string): Promise<AliasRecord | null>;
}

/** Create the read side of a system's deployments API. */
export function createDeploymentCatalog(deps: {
  store: Store;
  engine: ValidationEngine;
  servedLocally: () => Iterable<string>;
}): DeploymentCatalog {
  const { store, engine, servedLocally } = deps;

  const labeledVersions = (agent: string): Promise<VersionRecord[]> => labeledOf(store, agent);

  return {
    agentKnown: async (agent) =>
      engine.agents.has(agent) || (await store.deployments.versions(agent)).length > 0,

    async weightsOf(agent, alias) {
      const stored = await store.deployments.alias(agent, alias);
      if (stored || alias !== LIVE_ALIAS) return stored;
      const first = (await labeledVersions(agent))[0]?.version;
      if (first === undefined) return null;
      const base = { agent, alias, weights: { [first]: 100 }, updatedAt: store.now(), updatedBy: 'system' };
      return (await store.deployments.setAlias(base, null)) ?? store.deployments.alias(agent, alias);
    },

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
          inFlight: await inFlight(store, v),
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
          const reason = await keepReason(store, v, { newest, aliases, deploying, keep });
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
  };
}

const labeledOf = async (store: Store, agent: string): Promise<VersionRecord[]> =>
  (await store.deployments.versions(agent)).filter((v) => v.labeled);

/** Runs of a version not ended yet (an unlabeled digest: every unversioned active run of its agent). */
async function inFlight(store: Store, v: VersionRecord): Promise<number> {
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

/** Why pruning keeps a version, or null when nothing needs it. */
async function keepReason(
  store: Store,
  v: VersionRecord,
  o: {
    newest: ReadonlySet<string>;
    aliases: readonly AliasRecord[];
    deploying: readonly DeploymentRecord[];
    keep: number;
  },
): Promise<string | null> {
  const referenced = o.aliases.find((a) => a.agent === v.agent && (a.weights[v.version] ?? 0) > 0);
  if (referenced) return `alias ${referenced.alias} gives it ${referenced.weights[v.version]}%`;
  // No stored live alias yet: routing would give the first labeled version all the traffic.
  if (v.labeled && !o.aliases.some((a) => a.agent === v.agent && a.alias === LIVE_ALIAS)) {
    const first = (await labeledOf(store, v.agent))[0]?.version;
    if (first === v.version) return `alias ${LIVE_ALIAS} (implicit) gives it 100%`;
  }
  const dep = o.deploying.find((d) => d.agent === v.agent && (d.from === v.version || d.to === v.version));
  if (dep) return `active deployment ${dep.deploymentId}`;
  const n = await inFlight(store, v);
  if (n > 0) return `${n} run(s) in flight`;
  if (o.newest.has(v.version)) return `among the newest ${o.keep}`;
  return null;
}

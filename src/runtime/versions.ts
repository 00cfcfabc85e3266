/**
 * Which version of an agent a run runs on, and which queue a run waits on.
 *
 * At routing, once the agent is known (root and delegated runs alike): a pinned version wins; an
 * agent with no labeled version anywhere (none configured here, none published) takes the
 * unlabeled path with no store read per run; otherwise the alias `live` picks by weight, sticky
 * per session. An absent `live` alias is materialized to the agent's first published labeled
 * version at 100: a new version gets traffic only through a deployment or `aliases set`, never by
 * being added to the configuration. Aliases, published versions and active deployments are
 * cached for at most {@link CACHE_MS} per process.
 *
 * Also here: publishing the configured versions at start-up, the worker announcements, and the
 * list of versions traffic or runs need that no live worker serves.
 */
import { ConfigError } from '../core/errors.ts';
import type { RunState } from '../core/run-state.ts';
import type { DeploymentRecord, VersionRecord } from '../store/deployment-port.ts';
import type { Store } from '../store/ports.ts';
import { agentQueue, queueFor, ROUTER_QUEUE, versionKey, type AgentRuntime } from './agents.ts';
import { sessionKey } from '../core/ids.ts';

/** The alias runs are routed by. */
export const LIVE_ALIAS = 'live';
/** How stale an alias, the published versions or the active deployments may be in one process. */
export const CACHE_MS = 1_000;
/** Workers refresh their announcement this often; it expires after {@link ANNOUNCE_TTL_MS}. */
export const ANNOUNCE_EVERY_MS = 5_000;
export const ANNOUNCE_TTL_MS = 15_000;

/** What routing records about the version (`route.decided`). */
export interface VersionChoice {
  version?: string;
  alias?: string;
  sticky?: boolean;
  pinned?: boolean;
}

/** `commerce@v2` → agent and version; a plain name has no version. */
export function parseAgentRef(ref: string): { agent: string; version?: string } {
  const at = ref.indexOf('@');
  if (at < 0) return { agent: ref };
  return { agent: ref.slice(0, at), version: ref.slice(at + 1) };
}

/**
 * The version weights choose for a draw `r` in [0, 1): versions in name order, each taking its
 * share of the total. Undefined when no version has weight.
 */
export function pickWeighted(weights: Readonly<Record<string, number>>, r: number): string | undefined {
  const entries = Object.entries(weights)
    .filter(([, w]) => w > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = entries.reduce((s, [, w]) => s + w, 0);
  if (total <= 0) return undefined;
  let at = r * total;
  for (const [version, w] of entries) {
    if (at < w) return version;
    at -= w;
  }
  return entries.at(-1)?.[0];
}

interface Cached<T> {
  at: number;
  value: T;
}

/** The per-process decision maker: the configured versions plus short-lived caches of the store. */
export class VersionSelection {
  readonly #store: Store;
  readonly #agents: ReadonlyMap<string, AgentRuntime>;
  readonly #versions: ReadonlyMap<string, AgentRuntime>;
  readonly #random: () => number;
  /** The agent a run not naming one goes to without routing (no router, a default or only agent). */
  readonly #trivialAgent: string | undefined;
  readonly #published = new Map<string, Cached<VersionRecord[]>>();
  readonly #aliases = new Map<string, Cached<Record<string, number> | null>>();
  #deployments: Cached<DeploymentRecord[]> | null = null;

  constructor(o: {
    store: Store;
    agents: ReadonlyMap<string, AgentRuntime>;
    versions: ReadonlyMap<string, AgentRuntime>;
    random: () => number;
    trivialAgent?: string | undefined;
  }) {
    this.#store = o.store;
    this.#agents = o.agents;
    this.#versions = o.versions;
    this.#random = o.random;
    this.#trivialAgent = o.trivialAgent;
  }

  /** The configured runtime a run executes with: its version's, or the primary of its agent. */
  agentOf(state: Pick<RunState, 'agent' | 'version'>): AgentRuntime | undefined {
    if (state.agent === undefined) return undefined;
    return state.version
      ? this.#versions.get(versionKey(state.agent, state.version))
      : this.#agents.get(state.agent);
  }

  /** Labels configured in this process for `agent`, in declaration order. */
  localLabels(agent: string): string[] {
    return [...this.#versions.values()].filter((a) => a.name === agent && a.labeled).map((a) => a.version);
  }

  /** Published versions of `agent` (cached ≤ 1 s). */
  async published(agent: string): Promise<VersionRecord[]> {
    const now = this.#store.now();
    const hit = this.#published.get(agent);
    if (hit && now - hit.at < CACHE_MS) return hit.value;
    const value = await this.#store.deployments.versions(agent);
    this.#published.set(agent, { at: now, value });
    return value;
  }

  /**
   * True when the agent has a labeled version anywhere. Configured labels answer without a store
   * read; an unlabeled agent asks the store at most once a second (another process may label it).
   */
  async hasLabeled(agent: string): Promise<boolean> {
    if (this.localLabels(agent).length > 0) return true;
    return (await this.published(agent)).some((v) => v.labeled);
  }

  /** True when `version` is configured here or published, for `agent`. */
  async knows(agent: string, version: string): Promise<boolean> {
    if (this.#versions.has(versionKey(agent, version))) return true;
    return (await this.published(agent)).some((v) => v.version === version && v.labeled);
  }

  /**
   * The alias's weights (cached ≤ 1 s). An absent `live` alias is written once, by compare-and-set,
   * as 100 to the agent's first published labeled version (the first configured one if none is
   * published yet): adding a version to the configuration never moves traffic by itself.
   */
  async weights(agent: string, alias = LIVE_ALIAS): Promise<Record<string, number> | null> {
    const now = this.#store.now();
    const cacheKey = `${agent}\u0000${alias}`;
    const hit = this.#aliases.get(cacheKey);
    if (hit && now - hit.at < CACHE_MS) return hit.value;
    let record = await this.#store.deployments.alias(agent, alias);
    if (!record && alias === LIVE_ALIAS) {
      const first =
        (await this.published(agent)).find((v) => v.labeled)?.version ?? this.localLabels(agent)[0];
      if (first !== undefined) {
        const base = { agent, alias, weights: { [first]: 100 }, updatedAt: now, updatedBy: 'system' };
        // Losing the insert race is fine: the winner's alias is the one every process reads.
        record =
          (await this.#store.deployments.setAlias(base, null)) ??
          (await this.#store.deployments.alias(agent, alias));
      }
    }
    const value = record ? record.weights : null;
    this.#aliases.set(cacheKey, { at: now, value });
    return value;
  }

  /** Forget cached aliases and versions (after this process changed them). */
  invalidate(): void {
    this.#aliases.clear();
    this.#published.clear();
    this.#deployments = null;
  }

  /** Active deployments (in progress or paused), optionally of one agent (cached ≤ 1 s). */
  async activeDeployments(agent?: string): Promise<DeploymentRecord[]> {
    const now = this.#store.now();
    if (!this.#deployments || now - this.#deployments.at >= CACHE_MS)
      this.#deployments = { at: now, value: await this.#store.deployments.deployments({ active: true }) };
    return this.#deployments.value.filter((d) => agent === undefined || d.agent === agent);
  }

  /**
   * The version of a run whose agent is now known: pinned, none (unlabeled), or by the alias's
   * weights, sticky per session. Shadow runs never read or write session assignments.
   */
  async choose(state: RunState, agent: string): Promise<VersionChoice> {
    const sub = state.submitted;
    if (sub.version !== undefined) return { version: sub.version, pinned: true };
    if (!(await this.hasLabeled(agent))) return {};
    const weights = (await this.weights(agent, LIVE_ALIAS)) ?? {};
    const fallback = this.localLabels(agent)[0];
    if (sub.shadow) {
      const version = pickWeighted(weights, this.#random()) ?? fallback;
      return version === undefined ? {} : { version, alias: LIVE_ALIAS };
    }
    const key = sessionKey(sub.actorId, sub.sessionId);
    const prev = await this.#store.deployments.sessionVersion(agent, key);
    // A session keeps its version while the alias gives it any weight; a rollback to 0 moves it.
    if (prev !== null && (weights[prev] ?? 0) > 0) return { version: prev, alias: LIVE_ALIAS, sticky: true };
    const pick = pickWeighted(weights, this.#random()) ?? fallback;
    if (pick === undefined) return {};
    const stored = await this.#store.deployments.stickSession(
      agent,
      key,
      pick,
      prev !== null,
      this.#store.now(),
    );
    // A racing run of the same session stuck first: follow it, so the session sees one version.
    return { version: stored, alias: LIVE_ALIAS, sticky: stored !== pick };
  }

  /**
   * The queue a new run waits on first (system.submit and delegation): a pinned version's queue;
   * the router when the agent has labeled versions (routing picks one) or must be chosen; else
   * the agent's own queue.
   */
  async entryQueue(agent: string | undefined, version?: string): Promise<string> {
    const target = agent ?? this.#trivialAgent;
    if (!target) return ROUTER_QUEUE;
    if (version !== undefined) return agentQueue(target, version);
    if (await this.hasLabeled(target)) return ROUTER_QUEUE;
    return queueFor(this.#agents, target);
  }
}

/** The definition snapshot a version record keeps: what ran, readable after it left the config. */
function snapshotOf(a: AgentRuntime): Record<string, unknown> {
  return {
    name: a.name,
    version: a.version,
    responsibility: a.def.responsibility,
    instructions: a.def.instructions,
    model: { provider: a.model.provider, modelId: a.model.modelId },
    tools: a.specs.map((s) => ({
      name: s.name,
      description: s.description ?? '',
      inputSchema: s.inputSchema,
    })),
    examples: a.def.examples,
    budget: a.def.budget ?? null,
  };
}

/**
 * Publish every configured version (system.start, every process). A label is immutable: one
 * already published with a different digest is a {@link ConfigError} naming the agent.
 */
export async function publishVersions(
  store: Store,
  versions: ReadonlyMap<string, AgentRuntime>,
  source: string | null,
): Promise<void> {
  for (const a of versions.values()) {
    const stored = await store.deployments.publish({
      agent: a.name,
      version: a.version,
      digest: a.digest,
      labeled: a.labeled,
      definition: snapshotOf(a),
      source,
      createdAt: store.now(),
    });
    if (stored.digest !== a.digest)
      throw new ConfigError(
        `agents.${a.name}`,
        `version ${a.version} is already published with a different definition (digest ${stored.digest}); give the changed agent a new version label`,
      );
  }
}

/** A worker process's announcement of the versions it serves: refreshed every 5 s, retired on stop. */
export class Announcer {
  readonly #store: Store;
  readonly #owner: string;
  readonly #served: string[];
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | null = null;

  constructor(store: Store, owner: string, served: string[], onError: (error: unknown) => void) {
    this.#store = store;
    this.#owner = owner;
    this.#served = served;
    this.#onError = onError;
  }

  announce(): Promise<void> {
    const now = this.#store.now();
    return this.#store.deployments.announce({
      owner: this.#owner,
      served: this.#served,
      seenAt: now,
      expiresAt: now + ANNOUNCE_TTL_MS,
    });
  }

  async start(): Promise<void> {
    await this.announce();
    this.#timer = setInterval(() => {
      this.announce().catch(this.#onError);
    }, ANNOUNCE_EVERY_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#store.deployments.retire(this.#owner);
  }
}

/** Every key live workers announce (`name@version`, or a plain name for an unlabeled agent). */
export async function servedKeys(store: Store, now: number): Promise<Set<string>> {
  return new Set((await store.deployments.workers(now)).flatMap((w) => w.served));
}

/**
 * Labeled versions that need a worker and have none: alias weight > 0, or runnable runs waiting on
 * the version's queue, with no live announcement (nor this process, `localKeys`) serving them.
 */
export async function unservedVersions(
  store: Store,
  now: number,
  localKeys: Iterable<string> = [],
): Promise<{ agent: string; version: string; reason: string }[]> {
  const served = await servedKeys(store, now);
  for (const k of localKeys) served.add(k);
  const out = new Map<string, { agent: string; version: string; reason: string }>();
  for (const alias of await store.deployments.aliases()) {
    for (const [version, weight] of Object.entries(alias.weights)) {
      const key = versionKey(alias.agent, version);
      if (weight > 0 && !served.has(key) && !out.has(key))
        out.set(key, {
          agent: alias.agent,
          version,
          reason: `alias ${alias.alias} gives it ${weight}% of traffic but no live worker serves it`,
        });
    }
  }
  const waiting = new Map<string, number>();
  for (const row of await store.runs.runnable()) {
    if (!row.agent || !row.version) continue;
    const key = versionKey(row.agent, row.version);
    if (!served.has(key)) waiting.set(key, (waiting.get(key) ?? 0) + 1);
  }
  for (const [key, n] of waiting) {
    if (out.has(key)) continue;
    const { agent, version = '' } = parseAgentRef(key);
    out.set(key, {
      agent,
      version,
      reason: `${n} runnable run(s) wait on its queue but no live worker serves it`,
    });
  }
  return [...out.values()];
}

/**
 * `api` with every method except `skip` awaiting `publish()` first: a process that never starts
 * workers (a CLI command) still publishes its configured versions before it lists or deploys them.
 */
export function publishedFirst<T extends object>(
  api: T,
  publish: () => Promise<void>,
  skip: readonly string[],
): T {
  return new Proxy(api, {
    get(target, prop, receiver): unknown {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || (typeof prop === 'string' && skip.includes(prop))) return value;
      const method = value as (...args: unknown[]) => unknown;
      return async (...args: unknown[]): Promise<unknown> => {
        await publish();
        return method.apply(target, args);
      };
    },
  });
}

/**
 * The deployment store in process memory (the memory store's; tests and single-process demos).
 * Every method is synchronous inside (no await between a check and its write), so a
 * compare-and-set cannot interleave with another writer. Text columns follow ../text.ts: agent,
 * version, alias, session keys and owners hold well-formed text; JSON payloads (definitions,
 * weights, whole deployment records) keep every code unit.
 */
import { ConflictError } from '../../core/errors.ts';
import {
  ACTIVE_DEPLOYMENT_STATUSES,
  type AliasRecord,
  type DeploymentRecord,
  type DeploymentStore,
  type VersionRecord,
  type WorkerAnnouncement,
} from '../deployment-port.ts';
import { storedOpt, storedText } from '../text.ts';

const copy = <T>(v: T): T => structuredClone(v);
const key = (a: string, b: string): string => `${storedText(a)}\u0000${storedText(b)}`;
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function createMemoryDeployments(): DeploymentStore {
  const versions = new Map<string, VersionRecord>();
  const aliases = new Map<string, AliasRecord>();
  const sessions = new Map<string, { agent: string; sessionKey: string; version: string; at: number }>();
  const deployments = new Map<string, DeploymentRecord>();
  const workers = new Map<string, WorkerAnnouncement>();

  const putAlias = (record: Omit<AliasRecord, 'rev'>, rev: number): AliasRecord => {
    const stored = { ...copy(record), agent: storedText(record.agent), alias: storedText(record.alias), rev };
    stored.updatedBy = storedText(record.updatedBy);
    aliases.set(key(record.agent, record.alias), stored);
    return copy(stored);
  };
  const activeFor = (agent: string, alias: string): boolean =>
    [...deployments.values()].some(
      (d) => ACTIVE_DEPLOYMENT_STATUSES.has(d.status) && key(d.agent, d.alias) === key(agent, alias),
    );

  return {
    publish: async (record) => {
      const k = key(record.agent, record.version);
      const existing = versions.get(k);
      if (existing) return copy(existing);
      const stored: VersionRecord = {
        ...copy(record),
        agent: storedText(record.agent),
        version: storedText(record.version),
        digest: storedText(record.digest),
        source: storedOpt(record.source),
      };
      versions.set(k, stored);
      return copy(stored);
    },
    versions: async (agent) =>
      [...versions.values()]
        .filter((v) => agent === undefined || v.agent === storedText(agent))
        .sort((a, b) => a.createdAt - b.createdAt || byText(a.version, b.version))
        .map(copy),
    deleteVersion: async (agent, version) => versions.delete(key(agent, version)),

    alias: async (agent, alias) => {
      const a = aliases.get(key(agent, alias));
      return a ? copy(a) : null;
    },
    aliases: async (agent) =>
      [...aliases.values()]
        .filter((a) => agent === undefined || a.agent === storedText(agent))
        .sort((a, b) => byText(a.agent, b.agent) || byText(a.alias, b.alias))
        .map(copy),
    setAlias: async (record, expectedRev) => {
      const existing = aliases.get(key(record.agent, record.alias));
      if (expectedRev === null ? existing !== undefined : existing?.rev !== expectedRev) return null;
      return putAlias(record, (existing?.rev ?? 0) + 1);
    },

    sessionVersion: async (agent, sessionKey) => sessions.get(key(agent, sessionKey))?.version ?? null,
    stickSession: async (agent, sessionKey, version, replace, at) => {
      const k = key(agent, sessionKey);
      const existing = sessions.get(k);
      if (existing && !replace) return existing.version;
      const stored = {
        agent: storedText(agent),
        sessionKey: storedText(sessionKey),
        version: storedText(version),
        at,
      };
      sessions.set(k, stored);
      return stored.version;
    },
    forgetActor: async (actorId) => {
      const prefix = `${storedText(actorId)}\u0000`;
      let n = 0;
      for (const [k, s] of sessions) if (s.sessionKey.startsWith(prefix) && sessions.delete(k)) n++;
      return n;
    },

    createDeployment: async (record) => {
      if (deployments.has(record.deploymentId)) return false;
      if (ACTIVE_DEPLOYMENT_STATUSES.has(record.status) && activeFor(record.agent, record.alias))
        return false;
      deployments.set(record.deploymentId, { ...copy(record), rev: 1 });
      return true;
    },
    deployment: async (deploymentId) => {
      const d = deployments.get(deploymentId);
      return d ? copy(d) : null;
    },
    deployments: async ({ agent, active, limit = 100 } = {}) =>
      [...deployments.values()]
        .filter(
          (d) =>
            (agent === undefined || storedText(d.agent) === storedText(agent)) &&
            (!active || ACTIVE_DEPLOYMENT_STATUSES.has(d.status)),
        )
        .sort((a, b) => b.createdAt - a.createdAt || byText(b.deploymentId, a.deploymentId))
        .slice(0, limit)
        .map(copy),
    updateDeployment: async (record, expectedRev, alias) => {
      const existing = deployments.get(record.deploymentId);
      if (!existing || existing.rev !== expectedRev) return null;
      // As the SQL stores' unique index refuses it: a deployment cannot become a second active one.
      if (!ACTIVE_DEPLOYMENT_STATUSES.has(existing.status) && ACTIVE_DEPLOYMENT_STATUSES.has(record.status))
        if (activeFor(record.agent, record.alias))
          throw new ConflictError(
            'busy',
            record.deploymentId,
            `another deployment of ${record.agent}/${record.alias} is active`,
          );
      const stored = { ...copy(record), rev: expectedRev + 1 };
      deployments.set(record.deploymentId, stored);
      if (alias) {
        const prev = aliases.get(key(record.agent, record.alias));
        putAlias(
          {
            agent: record.agent,
            alias: record.alias,
            weights: alias.weights,
            updatedAt: record.updatedAt,
            updatedBy: alias.by,
          },
          (prev?.rev ?? 0) + 1,
        );
      }
      return copy(stored);
    },

    announce: async (a) => {
      workers.set(storedText(a.owner), { ...copy(a), owner: storedText(a.owner) });
    },
    retire: async (owner) => {
      workers.delete(storedText(owner));
    },
    workers: async (now) =>
      [...workers.values()]
        .filter((w) => w.expiresAt > now)
        .sort((a, b) => byText(a.owner, b.owner))
        .map(copy),
  };
}

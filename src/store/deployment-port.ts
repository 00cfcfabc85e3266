/**
 * The deployment port: published agent versions, aliases (named weights over versions), which
 * version each session was given, deployments (durable state machines shifting an alias's weights),
 * and the versions each live worker process serves. Version records are immutable once published;
 * aliases and deployments move only by compare-and-set on their `rev`, so two processes never both
 * write the same step. A deployment step that shifts traffic writes the alias in the same
 * transaction as the step ({@link DeploymentStore.updateDeployment}).
 *
 * Implementations: store/memory/deployments.ts, store/sqlite/deployments.ts,
 * store/postgres/deployments.ts; test/contract/deployments.contract.ts runs against each.
 */

/** One published version of an agent: what ran, kept after its definition leaves the config. */
export interface VersionRecord {
  agent: string;
  /** The label (`defineAgent({ version })`), or the content digest of an unlabeled agent. */
  version: string;
  /** Content digest of the definition (instructions, model, tools and schemas, budget, …). */
  digest: string;
  /** True for a labeled version: only those take weighted traffic. */
  labeled: boolean;
  /** A JSON snapshot of the definition (names, instructions, model id, tool names and schemas). */
  definition: unknown;
  /** Where it came from, e.g. a git sha (`deployments.source`); null when not given. */
  source: string | null;
  createdAt: number;
}

/** A named pointer with integer weights (summing to 100) over an agent's labeled versions. */
export interface AliasRecord {
  agent: string;
  alias: string;
  weights: Record<string, number>;
  /** Starts at 1 on insert; every write adds 1. */
  rev: number;
  updatedAt: number;
  updatedBy: string;
}

export type DeploymentStatus = 'in_progress' | 'paused' | 'succeeded' | 'rolled_back' | 'failed';
export const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'in_progress',
  'paused',
  'succeeded',
  'rolled_back',
  'failed',
];
/** Statuses in which a deployment still moves (one per agent and alias at most). */
export const ACTIVE_DEPLOYMENT_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['in_progress', 'paused']);

/** One journaled step of a deployment: what it did, to which weights, on which figures, why. */
export interface DeploymentStep {
  at: number;
  weights: Record<string, number>;
  /** The figures that led to the decision (new vs old), or null. */
  metrics: Record<string, unknown> | null;
  decision: string;
  reason: string;
}

export interface DeploymentRecord {
  deploymentId: string;
  agent: string;
  alias: string;
  from: string;
  to: string;
  strategy: string;
  status: DeploymentStatus;
  /** Append-only in practice: a step, once written, is never changed. */
  steps: DeploymentStep[];
  /** The driver's own progress (phase, plan index, …): JSON, owned by runtime/deployments.ts. */
  state: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  /** Starts at 1 on insert; every update adds 1. */
  rev: number;
  /** The process driving it and until when its lease holds (store clock); null when nobody does. */
  owner: string | null;
  leaseUntil: number | null;
}

/** What a live worker process serves: `name@version` keys of labeled versions, plain names otherwise. */
export interface WorkerAnnouncement {
  owner: string;
  served: string[];
  seenAt: number;
  expiresAt: number;
}

export interface DeploymentQuery {
  agent?: string;
  /** Only `in_progress` and `paused` ones. */
  active?: boolean;
  limit?: number;
}

export interface DeploymentStore {
  /**
   * Publish a version; when (agent, version) exists, nothing is written and the stored record is
   * returned (the caller compares digests: a label is immutable).
   */
  publish(record: VersionRecord): Promise<VersionRecord>;
  /** Published versions, oldest first (by createdAt, then version). */
  versions(agent?: string): Promise<VersionRecord[]>;
  deleteVersion(agent: string, version: string): Promise<boolean>;

  alias(agent: string, alias: string): Promise<AliasRecord | null>;
  aliases(agent?: string): Promise<AliasRecord[]>;
  /**
   * Compare-and-set: `expectedRev` null means the alias must not exist yet, a number that it is at
   * that rev. Returns the stored record (rev + 1, or 1 on insert), or null when the expectation failed.
   */
  setAlias(record: Omit<AliasRecord, 'rev'>, expectedRev: number | null): Promise<AliasRecord | null>;

  /** The version a session was given for an agent (key: the engine's sessionKey), or null. */
  sessionVersion(agent: string, sessionKey: string): Promise<string | null>;
  /**
   * Record a session's version. `replace` false keeps an existing assignment (a racing writer's):
   * returns the version stored after the call.
   */
  stickSession(
    agent: string,
    sessionKey: string,
    version: string,
    replace: boolean,
    at: number,
  ): Promise<string>;
  /** Erasure: drop the assignments of every session of an actor (keys starting `actorId\u0000`). */
  forgetActor(actorId: string): Promise<number>;

  /** Insert a deployment (rev 1); false when an active one exists for the same agent and alias. */
  createDeployment(record: DeploymentRecord): Promise<boolean>;
  deployment(deploymentId: string): Promise<DeploymentRecord | null>;
  /** Newest first. */
  deployments(query?: DeploymentQuery): Promise<DeploymentRecord[]>;
  /**
   * Compare-and-set on `rev`: writes `record` with rev = expectedRev + 1 when the stored rev is
   * `expectedRev`, and, when `alias` is given, upserts that alias's weights (rev + 1) in the same
   * transaction. Returns the stored record, or null when the rev did not match (nothing written).
   */
  updateDeployment(
    record: DeploymentRecord,
    expectedRev: number,
    alias?: { weights: Record<string, number>; by: string },
  ): Promise<DeploymentRecord | null>;

  /** Insert or refresh a worker's announcement. */
  announce(announcement: WorkerAnnouncement): Promise<void>;
  /** A worker that stops removes its announcement. */
  retire(owner: string): Promise<void>;
  /** Announcements with expiresAt > now. */
  workers(now: number): Promise<WorkerAnnouncement[]>;
}

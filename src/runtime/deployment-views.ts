/**
 * What `system.deployments` answers (runtime/deployments.ts): the views of versions, aliases and
 * deployments the CLI, the HTTP routes and the console show, and the small pure helpers they share.
 */
import { UserError } from '../core/errors.ts';
import type { AliasRecord, DeploymentRecord, DeploymentStatus } from '../store/deployment-port.ts';

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

/** A stored millisecond time as ISO 8601 text. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A stored deployment as the API shows it (with a shadow deployment's report). */
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

/** A stored alias as the API shows it. */
export const aliasView = (a: AliasRecord): AliasView => ({
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

/** An alias name the store accepts: a letter or digit, then up to 39 of `[A-Za-z0-9._-]`. */
export function checkAliasName(alias: unknown): void {
  if (typeof alias !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(alias))
    throw new UserError(`alias "${String(alias)}" must match [A-Za-z0-9][A-Za-z0-9._-]{0,39}`, 'alias');
}

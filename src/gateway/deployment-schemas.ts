/**
 * The HTTP contract of deployments (docs/deployments.md): versions, aliases, deployments and
 * per-version figures, as the routes schemas.ts puts in its table. `err` and `common` are
 * schemas.ts's error responses (passed in: this module must not import schemas.ts).
 */
import { z } from 'zod';
import { DEPLOYMENT_STATUSES } from '../store/deployment-port.ts';
import { MAX_NAME_CHARS } from '../core/limits.ts';

/** A name in a query or path: no NUL, no lone surrogate (no store can hold them). */
export const NameParam = z
  .string()
  .min(1)
  .max(MAX_NAME_CHARS)
  .refine((v) => !v.includes('\u0000') && !/\p{Cs}/u.test(v), 'must not contain NUL or lone surrogates');

export const AgentQuery = z.strictObject({ agent: NameParam.optional() });

export const VersionViewSchema = z.object({
  agent: z.string(),
  version: z.string(),
  digest: z.string(),
  labeled: z.boolean(),
  source: z.string().nullable(),
  createdAt: z.string(),
  aliases: z.array(z.object({ alias: z.string(), weight: z.number() })),
  inFlight: z.number(),
  served: z.boolean(),
  local: z.boolean(),
});

export const AliasViewSchema = z.object({
  agent: z.string(),
  alias: z.string(),
  weights: z.record(z.string(), z.number()),
  implicit: z.boolean(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});

const status = z.enum(DEPLOYMENT_STATUSES as [string, ...string[]]);

export const DeploymentViewSchema = z.object({
  deploymentId: z.string(),
  agent: z.string(),
  alias: z.string(),
  from: z.string(),
  to: z.string(),
  strategy: z.string(),
  status,
  steps: z.array(
    z.object({
      at: z.string(),
      weights: z.record(z.string(), z.number()),
      metrics: z.unknown(),
      decision: z.string(),
      reason: z.string(),
    }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  shadow: z.unknown().optional(),
});

export const PruneBody = z.strictObject({
  keep: z.number().int().min(1).describe('Keep the newest N versions of each agent'),
  dryRun: z.boolean().optional(),
  agent: NameParam.optional(),
});

export const PruneResultSchema = z.object({
  pruned: z.array(z.object({ agent: z.string(), version: z.string() })),
  kept: z.array(z.object({ agent: z.string(), version: z.string(), reason: z.string() })),
  dryRun: z.boolean(),
});

export const SetAliasBody = z.strictObject({
  weights: z.record(NameParam, z.number().int().min(0).max(100)).describe('version → weight, summing to 100'),
});

export const DeployBody = z.strictObject({
  agent: NameParam,
  to: NameParam.describe('A published labeled version'),
  strategy: z
    .string()
    .min(1)
    .max(100)
    .describe('all-at-once | canary:<pct>:<bake> | linear:<pct>:<every> | shadow:<pct>:<duration>'),
  alias: NameParam.optional(),
});

export const DeploymentCreated = z.object({ deploymentId: z.string(), status });

export const VersionFiguresSchema = z.object({
  agent: z.string(),
  versions: z.array(z.object({ version: z.string(), figures: z.record(z.string(), z.number()) })),
});

const ops = ['operator' as const, 'admin' as const];

export const deploymentRoutes = <E, C extends object>(err: (description: string) => E, common: C) =>
  [
    {
      method: 'get',
      path: '/v1/versions',
      operationId: 'listVersions',
      summary: 'Published agent versions: digest, aliases giving them weight, runs in flight, served or not',
      roles: ops,
      query: AgentQuery,
      responses: {
        200: { description: 'Versions', schema: z.object({ versions: z.array(VersionViewSchema) }) },
        400: err('Bad query'),
        403: err('Role may not read it'),
        ...common,
      },
    },
    {
      method: 'post',
      path: '/v1/versions/prune',
      operationId: 'pruneVersions',
      summary: 'Delete versions no alias, run in flight or active deployment uses, beyond the newest N',
      roles: ops,
      body: PruneBody,
      responses: {
        200: { description: 'Pruned and kept', schema: PruneResultSchema },
        400: err('Malformed body'),
        403: err('Role may not prune'),
        ...common,
      },
    },
    {
      method: 'get',
      path: '/v1/aliases',
      operationId: 'listAliases',
      summary: 'Aliases and their weights over labeled versions',
      roles: ops,
      query: AgentQuery,
      responses: {
        200: { description: 'Aliases', schema: z.object({ aliases: z.array(AliasViewSchema) }) },
        400: err('Bad query'),
        403: err('Role may not read it'),
        ...common,
      },
    },
    {
      method: 'put',
      path: '/v1/aliases/:agent/:alias',
      operationId: 'setAlias',
      summary: "Set an alias's weights (integers summing to 100 over published labeled versions)",
      roles: ops,
      body: SetAliasBody,
      responses: {
        200: { description: 'The alias', schema: AliasViewSchema },
        400: err('Malformed body or weights'),
        403: err('Role may not change it'),
        404: err('No such agent'),
        409: err('A deployment of that alias is active'),
        ...common,
      },
    },
    {
      method: 'post',
      path: '/v1/deployments',
      operationId: 'createDeployment',
      summary: 'Start a deployment of a version by a strategy',
      roles: ops,
      body: DeployBody,
      responses: {
        201: { description: 'Started', schema: DeploymentCreated },
        400: err('Malformed body, unknown agent or version, bad strategy'),
        403: err('Role may not deploy'),
        409: err('Another deployment of that agent and alias is active'),
        ...common,
      },
    },
    {
      method: 'get',
      path: '/v1/deployments',
      operationId: 'listDeployments',
      summary: 'Deployments with their steps',
      roles: ops,
      query: AgentQuery,
      responses: {
        200: { description: 'Deployments', schema: z.object({ deployments: z.array(DeploymentViewSchema) }) },
        400: err('Bad query'),
        403: err('Role may not read it'),
        ...common,
      },
    },
    {
      method: 'get',
      path: '/v1/deployments/:id',
      operationId: 'getDeployment',
      summary: 'One deployment: its steps with weights, figures, decision and reason',
      roles: ops,
      responses: {
        200: { description: 'The deployment', schema: DeploymentViewSchema },
        400: err('Bad id'),
        403: err('Role may not read it'),
        404: err('No such deployment'),
        ...common,
      },
    },
    ...(['promote', 'pause', 'resume', 'rollback'] as const).map((verb) => ({
      method: 'post' as const,
      path: `/v1/deployments/:id/${verb}` as const,
      operationId: `${verb}Deployment` as const,
      summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} a deployment (operator)`,
      roles: ops,
      responses: {
        200: { description: 'The deployment', schema: DeploymentViewSchema },
        400: err('Not applicable in its status, or bad id'),
        403: err('Role may not change it'),
        404: err('No such deployment'),
        ...common,
      },
    })),
    {
      method: 'get',
      path: '/v1/agents/:name/versions',
      operationId: 'agentVersionFigures',
      summary: 'Per-version figures of an agent over the last hour, side by side',
      roles: ops,
      responses: {
        200: { description: 'Figures per version', schema: VersionFiguresSchema },
        400: err('Bad name'),
        403: err('Role may not read it'),
        404: err('No such agent'),
        ...common,
      },
    },
  ] as const;

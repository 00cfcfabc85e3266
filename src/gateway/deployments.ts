/**
 * The deployments' HTTP handlers (operators and admins; the ROUTES table in schemas.ts holds their
 * roles and shapes): versions, prune, aliases, deploy, deployments and the operator actions. The
 * operator recorded is the calling key's actor.
 */
import type { Context } from 'hono';
import type { Principal } from './auth.ts';
import type { System } from '../system.ts';
import type { GatewayEnv } from './context.ts';
import { NameParam } from './deployment-schemas.ts';
import { badRequest, notFound } from './errors.ts';

interface Call {
  c: Context<GatewayEnv>;
  principal: Principal;
  id: string;
  body: unknown;
  query: { agent?: string | undefined } | undefined;
}

/** A path parameter as a name, or a 400 naming it. */
function param(c: Context<GatewayEnv>, field: string): string {
  const r = NameParam.safeParse(c.req.param(field) ?? '');
  if (!r.success) throw badRequest(field, r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

const by = (p: Principal): string => p.actorId || p.keyId || 'http';

export function deploymentHandlers(system: System) {
  const d = system.deployments;
  const verb =
    (name: 'promote' | 'pause' | 'resume' | 'rollback') =>
    async ({ c, id, principal }: Call): Promise<Response> =>
      c.json(await d[name](id, by(principal)));
  return {
    async listVersions({ c, query }: Call): Promise<Response> {
      return c.json({ versions: await d.versions(query?.agent) });
    },
    async pruneVersions({ c, body }: Call): Promise<Response> {
      const b = body as { keep: number; dryRun?: boolean; agent?: string };
      return c.json(await d.prune(b));
    },
    async listAliases({ c, query }: Call): Promise<Response> {
      return c.json({ aliases: await d.aliases(query?.agent) });
    },
    async setAlias({ c, body, principal }: Call): Promise<Response> {
      const { weights } = body as { weights: Record<string, number> };
      return c.json(await d.setAlias(param(c, 'agent'), param(c, 'alias'), weights, by(principal)));
    },
    async createDeployment({ c, body, principal }: Call): Promise<Response> {
      const b = body as { agent: string; to: string; strategy: string; alias?: string };
      return c.json(await d.deploy({ ...b, by: by(principal) }), 201);
    },
    async listDeployments({ c, query }: Call): Promise<Response> {
      return c.json({ deployments: await d.list(query?.agent ? { agent: query.agent } : {}) });
    },
    async getDeployment({ c, id }: Call): Promise<Response> {
      return c.json(await d.get(id));
    },
    promoteDeployment: verb('promote'),
    pauseDeployment: verb('pause'),
    resumeDeployment: verb('resume'),
    rollbackDeployment: verb('rollback'),
    async agentVersionFigures({ c }: Call): Promise<Response> {
      const agent = param(c, 'name');
      if ((await d.versions(agent)).length === 0) throw notFound(`agent ${agent}`);
      return c.json({ agent, versions: await d.figures(agent) });
    },
  };
}

/**
 * The schedules' HTTP handlers (operators and admins; the ROUTES table in schemas.ts holds their
 * roles and shapes): list with next fire times and recent slots, pause, resume, trigger.
 */
import type { Context } from 'hono';
import type { System } from '../system.ts';
import type { GatewayEnv } from './context.ts';

type Call = { c: Context<GatewayEnv> };

export function scheduleHandlers(system: System) {
  const name = (c: Context<GatewayEnv>): string => c.req.param('name') ?? '';
  return {
    async listSchedules({ c }: Call): Promise<Response> {
      return c.json({ schedules: await system.schedules.list() });
    },
    async pauseSchedule({ c }: Call): Promise<Response> {
      return c.json(await system.schedules.setPaused(name(c), true));
    },
    async resumeSchedule({ c }: Call): Promise<Response> {
      return c.json(await system.schedules.setPaused(name(c), false));
    },
    async triggerSchedule({ c }: Call): Promise<Response> {
      return c.json(await system.schedules.trigger(name(c)), 202);
    },
  };
}

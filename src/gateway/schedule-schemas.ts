/** The schedules' HTTP shapes (GET /v1/schedules, POST /v1/schedules/:name/…), for the ROUTES table. */
import { z } from 'zod';

export const ScheduleSlot = z.object({
  schedule: z.string(),
  key: z.string().describe('The slot ISO time, or trigger:<id>'),
  slot: z.string(),
  kind: z.enum(['scheduled', 'backfill', 'trigger']),
  status: z.enum(['pending', 'buffered', 'fired', 'skipped']),
  runId: z.string().nullable(),
  reason: z.string().nullable(),
  at: z.string(),
  runStatus: z.string().nullable(),
});

export const ScheduleViewSchema = z.object({
  name: z.string(),
  cron: z.string().nullable(),
  every: z.string().nullable(),
  timezone: z.string(),
  agent: z.string().nullable(),
  overlap: z.enum(['skip', 'buffer-one', 'allow']),
  catchup: z.string(),
  jitterMs: z.number(),
  paused: z.boolean(),
  pausedBy: z.enum(['config', 'override']),
  lastSlot: z.string().nullable(),
  next: z.array(z.object({ slot: z.string(), fireAt: z.string() })),
  slots: z.array(ScheduleSlot),
});

export const ScheduleTriggered = z.object({ schedule: z.string(), key: z.string(), runId: z.string() });

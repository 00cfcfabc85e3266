/**
 * `switchboard schedules list|pause|resume|trigger|backfill`: the configured schedules, their next
 * fire times and recent slots, and the operations on them. Each acts on the store directly (no
 * workers start here): a run it submits is advanced by the system's worker processes.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { NotFoundError } from '../core/errors.ts';
import type { ScheduleView, Scheduler } from '../runtime/scheduler.ts';
import { CONFIG_FLAG, withProject } from './app.ts';

/** An ISO time flag, checked when the command runs (a usage error, exit 2). */
const isoTime = (flag: string, value: string): number => {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError(`${flag} must be an ISO time (2026-01-01T00:00:00Z), got "${value}"`);
  return ms;
};

/** Run `fn` on the project's schedules; an unknown schedule name is a usage error (exit 2). */
async function withSchedules<T>(
  config: string | undefined,
  name: string | undefined,
  fn: (schedules: Scheduler) => Promise<T>,
): Promise<T> {
  return withProject(config, { workers: false }, async (project) => {
    const schedules = project.system.schedules;
    try {
      if (name !== undefined) schedules.spec(name);
    } catch (error) {
      if (error instanceof NotFoundError) throw new InvalidArgumentError(error.message);
      throw error;
    }
    return fn(schedules);
  });
}

/** One schedule in a few lines: what, paused, next fire times, last slots and their runs. */
export function formatSchedule(v: ScheduleView, slots = 5): string {
  const when = v.cron !== null ? `cron "${v.cron}" (${v.timezone})` : `every ${v.every}`;
  const lines = [
    `${v.name}: ${when} → ${v.agent ?? '(routed)'}, overlap ${v.overlap}, catchup ${v.catchup}${v.jitterMs ? `, jitter ${v.jitterMs}ms` : ''}${v.paused ? `  [paused${v.pausedBy === 'override' ? ' by schedules pause' : ' in config'}]` : ''}`,
    `  next: ${v.paused ? '(paused) ' : ''}${v.next.map((n) => n.fireAt).join(', ') || '—'}`,
  ];
  for (const s of v.slots.slice(0, slots))
    lines.push(
      `  ${s.slot}  ${s.kind === 'scheduled' ? '' : `${s.kind} `}${s.status}${s.runId ? `  ${s.runId} (${s.runStatus ?? '?'})` : ''}${s.reason ? `  ${s.reason}` : ''}`,
    );
  if (v.slots.length === 0) lines.push('  no slots yet');
  return lines.join('\n');
}

export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('configured schedules: list them with next fire times, pause, resume, trigger, backfill');
  schedules
    .command('list')
    .description('each schedule with its next 3 fire times, paused or not, and its last slots and runs')
    .option('--json', 'print one JSON object { "schedules": [...] }')
    .option(...CONFIG_FLAG)
    .action(async (opts: { json?: boolean; config?: string }) => {
      await withSchedules(opts.config, undefined, async (s) => {
        const list = await s.list();
        if (opts.json) return void console.log(JSON.stringify({ schedules: list }));
        if (list.length === 0) return void console.log('no schedules configured');
        console.log(list.map((v) => formatSchedule(v)).join('\n\n'));
      });
    });
  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const)
    schedules
      .command(verb)
      .description(
        paused
          ? 'stop firing a schedule, durably (kept across restarts, overrides the configuration)'
          : 'fire a paused schedule again from now on (slots while paused never fire)',
      )
      .argument('<name>', 'the schedule')
      .option('--json', 'print the schedule as JSON')
      .option(...CONFIG_FLAG)
      .action(async (name: string, opts: { json?: boolean; config?: string }) => {
        await withSchedules(opts.config, name, async (s) => {
          const v = await s.setPaused(name, paused);
          console.log(opts.json ? JSON.stringify(v) : `${name} ${paused ? 'paused' : 'resumed'}`);
        });
      });
  schedules
    .command('trigger')
    .description('fire one run of a schedule now (its own idempotency key, recorded with the slots)')
    .argument('<name>', 'the schedule')
    .option('--json', 'print { "schedule", "key", "runId" }')
    .option(...CONFIG_FLAG)
    .action(async (name: string, opts: { json?: boolean; config?: string }) => {
      await withSchedules(opts.config, name, async (s) => {
        const r = await s.trigger(name);
        console.log(opts.json ? JSON.stringify(r) : `${name}: run ${r.runId} (${r.key})`);
      });
    });
  schedules
    .command('backfill')
    .description(
      'fire every slot in [from, to] that has no record yet, exactly once (run it twice: nothing twice)',
    )
    .argument('<name>', 'the schedule')
    .requiredOption('--from <iso>', 'first slot time included')
    .requiredOption('--to <iso>', 'last slot time included (never after now)')
    .option('--json', 'print { "schedule", "from", "to", "slots", "fired", "existing" }')
    .option(...CONFIG_FLAG)
    .action(async (name: string, opts: { from: string; to: string; json?: boolean; config?: string }) => {
      const [from, to] = [isoTime('--from', opts.from), isoTime('--to', opts.to)];
      if (from > to) throw new InvalidArgumentError('--from is after --to');
      await withSchedules(opts.config, name, async (s) => {
        const r = await s.backfill(name, from, to);
        if (opts.json) return void console.log(JSON.stringify(r));
        for (const f of r.fired) console.log(`${f.slot}  ${f.runId}`);
        console.log(`${name}: ${r.fired.length} of ${r.slots} slots fired, ${r.existing} already recorded`);
      });
    });
}

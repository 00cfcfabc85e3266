/**
 * What `switchboard run` shows while a run works: progress, routing, delegations, failures — of the
 * run and of the runs it delegated to. It stops when the run ends, or when any run of the tree
 * waits for a person (an approval) or needs attention: the run stays durably where it is.
 */
import type { JournalEvent } from '../core/events.ts';
import type { System } from '../system.ts';
import { describeEvent } from './trace.ts';

const SHOWN = new Set([
  'route.decided',
  'route.escalated',
  'delegation.requested',
  'delegation.completed',
  'tool.failed',
  'tool.denied',
]);

/** Follow `runId` and its delegated runs; resolves when the run ends or waits for a person. */
export async function followRun(system: System, runId: string, say: (line: string) => void): Promise<void> {
  const stop = new AbortController();
  const followers: Promise<void>[] = [];
  const follow = async (id: string, indent: string): Promise<void> => {
    try {
      for await (const e of system.events(id, { signal: stop.signal })) {
        if (stop.signal.aborted) return;
        show(e, indent);
        if (e.type === 'delegation.requested') followers.push(follow(e.data.childRunId, `${indent}  `));
        if (e.type === 'run.needs_attention' || e.type === 'approval.requested') {
          stop.abort();
          return;
        }
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
  };
  const show = (e: JournalEvent, indent: string): void => {
    if (e.type === 'progress') say(`${indent}  … ${e.data.message}`);
    else if (SHOWN.has(e.type)) say(`${indent}  · ${describeEvent(e).split('\n')[0]}`);
    else if (e.type === 'run.needs_attention') say(`${indent}  ! ${e.data.reason}`);
    else if (e.type === 'approval.requested')
      say(
        `${indent}  ? waiting for approval ${e.data.approvalId} (${e.data.tool}): \`switchboard approve ${e.data.approvalId}\``,
      );
  };
  await follow(runId, '');
  stop.abort();
  await Promise.allSettled(followers);
}

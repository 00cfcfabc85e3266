/**
 * A run's journal is closed after its closing event (`run.completed`, `run.failed`,
 * `run.cancelled`): every adapter asks {@link admitAppend} before appending, so nothing can follow
 * the end of a run except the record of an erasure.
 */
import { JournalClosedError } from '../core/errors.ts';
import { AFTER_CLOSE_EVENTS, CLOSING_EVENTS, type NewEvent } from '../core/events.ts';
import type { AppendOp } from './ports.ts';

/** Whether a journal whose last event has `type` is closed; `earlierClosing` looks further back when that event could follow a close. */
export function isClosedAfter(type: string | undefined, earlierClosing: () => boolean): boolean {
  if (type === undefined) return false;
  if (CLOSING_EVENTS.has(type as NewEvent['type'])) return true;
  return AFTER_CLOSE_EVENTS.has(type as NewEvent['type']) && earlierClosing();
}

/**
 * Decide an append to a journal that is `closed` or not: `'append'`, or `'drop'` for a `'tail'`
 * notification into a run that has ended (a child's completion reaching a cancelled parent: nobody
 * waits for it any more). Anything else after a closing event throws {@link JournalClosedError}.
 */
export function admitAppend(op: AppendOp, closed: boolean): 'append' | 'drop' {
  let open = !closed;
  for (const e of op.events) {
    if (!open && !AFTER_CLOSE_EVENTS.has(e.type)) {
      if (closed && op.expectedSeq === 'tail') return 'drop';
      throw new JournalClosedError(
        op.runId,
        `run ${op.runId} has ended: its journal is closed (refused ${e.type})`,
      );
    }
    if (CLOSING_EVENTS.has(e.type)) open = false;
  }
  return 'append';
}

/** Whether the events close the journal (for adapters that track it). */
export const closes = (events: readonly NewEvent[]): boolean =>
  events.some((e) => CLOSING_EVENTS.has(e.type));

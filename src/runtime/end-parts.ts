/**
 * What a run's end releases, in the run's final commit: its session slot (a root run), or its
 * parent's wait (a delegated run: `delegation.completed` appended to the parent, and the parent's
 * wake-up on the queue of the parent's own version).
 */
import { event } from '../core/events.ts';
import { sessionKey } from '../core/ids.ts';
import type { RunState } from '../core/run-state.ts';
import type { Commit, Store } from '../store/ports.ts';
import { queueFor, type AgentRuntime } from './agents.ts';

/** The session key lives in core/ids.ts (the gateway reads it too); re-exported for the runtime. */

/** The commit parts of a run's end: leave the session, or tell and wake the parent. */
export function endParts(
  store: Store,
  agents: ReadonlyMap<string, AgentRuntime>,
  state: RunState,
): Pick<Commit, 'session' | 'appends' | 'upsertTasks'> {
  const sub = state.submitted;
  if (!sub.parentRunId || !sub.parentCallId)
    return {
      session: { leave: { sessionKey: sessionKey(sub.actorId, sub.sessionId), runId: state.runId } },
    };
  const status =
    state.status === 'completed' ? 'completed' : state.status === 'cancelled' ? 'cancelled' : 'failed';
  const parentAgent = sub.lineage.at(-1) ?? '';
  return {
    // 'tail': the parent waits on no worker, so nobody else appends to it in between.
    appends: [
      {
        runId: sub.parentRunId,
        expectedSeq: 'tail',
        events: [
          event('delegation.completed', {
            callId: sub.parentCallId,
            childRunId: state.runId,
            status,
            ...(state.output !== undefined ? { output: state.output } : {}),
            ...(state.error
              ? { error: state.error }
              : state.escalation
                ? {
                    error: {
                      name: 'Escalated',
                      code: 'escalated',
                      message: state.escalation.reason,
                      details: { summary: state.escalation.summary ?? '', agent: state.agent ?? '' },
                    },
                  }
                : {}),
          }),
        ],
      },
    ],
    // The parent waits on its own version's queue: only workers serving that version take it.
    upsertTasks: [
      {
        runId: sub.parentRunId,
        queue: queueFor(agents, parentAgent, sub.parentVersion),
        readyAt: store.now(),
      },
    ],
  };
}

/** Journal events the store tests append, built once here instead of in every test file. */
import { DEFAULT_BUDGET } from '../src/core/budget.ts';
import { event } from '../src/core/events.ts';

/** A run's first event, submitted by `actorId` in `sessionId`. */
export const submittedEvent = (actorId = 'a', sessionId = 's') =>
  event('run.submitted', {
    actorId,
    sessionId,
    input: 'hi',
    channel: 'test',
    lineage: [],
    depth: 0,
    budget: DEFAULT_BUDGET,
  });

export const progressEvent = (message: string) => event('progress', { message });

/** Ids of runs, sessions, approvals: time-ordered and collision-resistant. */
import { randomBytes } from 'node:crypto';

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Time-ordered, collision-resistant ids: `run_<time36><random>`. */
export function newId(prefix: string): string {
  const bytes = randomBytes(8);
  let rand = '';
  for (const b of bytes) rand += ID_ALPHABET[b % 36];
  // Time, then a per-process counter: ids made in the same millisecond still sort in creation order.
  idCounter = (idCounter + 1) % 46_656;
  return `${prefix}_${Date.now().toString(36)}${idCounter.toString(36).padStart(3, '0')}${rand}`;
}

let idCounter = 0;

/**
 * The key of a session's run order and of its version assignments: the store's session rows, the
 * engine and the gateway's session watchers all key by it.
 */
export const sessionKey = (actorId: string, sessionId: string): string => `${actorId}\u0000${sessionId}`;

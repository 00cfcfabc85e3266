/** Ids of runs, sessions, approvals: time-ordered and collision-resistant. */
import { randomFillSync } from 'node:crypto';

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 8;

/**
 * Random bytes drawn in blocks and handed out 8 at a time (each byte used once): one buffer for
 * many ids instead of one per id.
 */
const pool = new Uint8Array(RANDOM_CHARS * 64);
let poolAt = pool.length;

/** Time-ordered, collision-resistant ids: `run_<time36><random>`. */
export function newId(prefix: string): string {
  if (poolAt + RANDOM_CHARS > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let rand = '';
  for (let i = 0; i < RANDOM_CHARS; i++) rand += ID_ALPHABET[pool[poolAt + i]! % 36];
  poolAt += RANDOM_CHARS;
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

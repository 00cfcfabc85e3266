/** A source of time in ms since the epoch. Injected everywhere so tests never sleep. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

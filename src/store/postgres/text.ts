/** Text escaping for PostgreSQL keys, and the append-race marker shared by the commit path. */

/**
 * PostgreSQL text cannot hold NUL, which composite keys use as a separator (`actor\u0000session`):
 * escape backslash and NUL reversibly.
 */
export const pgText = (v: string): string => v.replace(/\\/g, '\\\\').replaceAll('\u0000', '\\0');
export const fromPgText = (v: string): string =>
  v.replace(/\\(\\|0)/g, (_, c: string) => (c === '0' ? '\u0000' : '\\'));

/** A seq race on an append: `tail` appends retry, the others are a ConflictError. */
export class SeqRace extends Error {
  readonly runId: string;
  readonly expectedSeq: number | 'tail';
  constructor(runId: string, expectedSeq: number | 'tail') {
    super(`seq race on ${runId}`);
    this.runId = runId;
    this.expectedSeq = expectedSeq;
  }
}

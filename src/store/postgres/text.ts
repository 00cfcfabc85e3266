/** Text escaping for PostgreSQL text columns, and the append-race marker shared by the commit path. */
import { storedText } from '../text.ts';

/**
 * PostgreSQL text cannot hold NUL, which composite keys use as a separator (`actor\u0000session`)
 * and user text may contain (`thank\u0000you`): every text column that holds user text is written
 * through `pgText` (backslash and NUL escaped reversibly, lone surrogates as U+FFFD like every
 * store, see ../text.ts) and read through `fromPgText`. Lookups escape their argument the same way.
 */
export const pgText = (v: string): string => storedText(v).replace(/\\/g, '\\\\').replaceAll('\u0000', '\\0');
export const fromPgText = (v: string): string =>
  v.replace(/\\(\\|0)/g, (_, c: string) => (c === '0' ? '\u0000' : '\\'));
/**
 * Ids the system generates (runs, approvals, keys) are plain ASCII and stored raw; an id looked up
 * from outside that holds NUL names nothing, and PostgreSQL would refuse the query: answer "none".
 */
export const impossibleId = (id: string): boolean => id.includes('\u0000');
/** {@link pgText} for a nullable column. */
export const pgOpt = (v: string | null): string | null => (v === null ? null : pgText(v));
/** {@link fromPgText} for a nullable column. */
export const fromPgOpt = (v: string | null): string | null => (v === null ? null : fromPgText(v));

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

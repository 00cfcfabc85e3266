/**
 * The conflicts a commit raises, built in one place so the three stores say the same thing with the
 * same reason (core/errors.ts ConflictReason). Callers branch on `reason`, never on the message.
 */
import { ConflictError } from '../core/errors.ts';

/** `seq`: an append's expected seq was taken (or skipped); `expectedSeq` is absent for a `tail` append. */
export const seqTaken = (runId: string, expectedSeq?: number): ConflictError =>
  new ConflictError('seq', runId, undefined, expectedSeq);

/** `fenced`: the unit's lease was taken by another worker. */
export const leaseLost = (runId: string): ConflictError =>
  new ConflictError('fenced', runId, `lease on run ${runId} was lost (fenced)`);

/** `moved`: a seq assertion failed; `last` is the run's seq now. */
export const movedOn = (runId: string, last: number): ConflictError =>
  new ConflictError('moved', runId, `run ${runId} moved on (seq ${last})`);

/** `duplicate`: a live dedup key already names a run. */
export const duplicateKey = (key: string, runId: string): ConflictError =>
  new ConflictError('duplicate', runId, `duplicate client message id ${key}`);

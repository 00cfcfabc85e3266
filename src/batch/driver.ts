/**
 * The batch driver: records a batch in the store, then submits its records as runs and follows
 * them until each is final or waiting for a person. Every step is resumable:
 *
 * - A record's run is submitted with the idempotency key `batch:<batchId>:<customId>`, so a driver
 *   killed between the submit and the record's update submits again and gets the same run — one
 *   run per record however often the batch is resumed, and so no repeated side effect.
 * - Record moves are compare-and-set (`pending → submitted → final`): a cancel, or a second
 *   driver of the same batch, can never be overwritten.
 *
 * Fairness: at most `share` of an agent's concurrency runs a batch's runs (at least one), and the
 * whole batch has at most `concurrency` runs in flight, paced by AIMD (pace.ts): failures and
 * rate limits (`model.retried` with 429) slow it down. Interactive runs keep the rest of each
 * agent's workers. A run waiting for an approval (or an operator) holds no worker: it leaves the
 * in-flight count and is reported as `waiting`.
 */
import { UserError } from '../core/errors.ts';
import type { ErrorData, JournalEvent, Totals } from '../core/events.ts';
import { TERMINAL_STATUSES, type RunStatus } from '../core/run-state.ts';
import { errorData } from '../runtime/error-data.ts';
import type { BatchRecordRow, BatchRecordStatus, BatchRow } from '../store/batch-port.ts';
import { idempotencyDedupKey, type System } from '../system.ts';
import { createPace } from './pace.ts';
import { digestOf, parseBatch } from './parse.ts';

/** One output row, as `--out` and `GET /v1/batches/:id/results` give it. */
export interface BatchResultRow {
  id: string;
  runId: string | null;
  status: RunStatus | 'invalid' | 'pending';
  output: string | null;
  error: ErrorData | null;
  totals: Totals | null;
}

/** The final summary (`batch run --json`). */
export interface BatchSummary {
  batchId: string;
  total: number;
  completed: number;
  failed: number;
  escalated: number;
  waiting: number;
  tokens: number;
  costUsd: number;
}

/** Where a driver is, for progress displays. */
export interface BatchProgress {
  batchId: string;
  total: number;
  /** Records final. */
  done: number;
  /** Records whose run waits for a person (an approval, an operator). */
  waiting: number;
  failed: number;
  inFlight: number;
  limit: number;
}

export interface DriveOptions {
  /** Most runs in flight (default 8). */
  concurrency?: number;
  /** Largest fraction of an agent's concurrency the batch may hold (default 0.5). */
  share?: number;
  /** The router queue's concurrency (runs submitted without an agent count against it). */
  routerConcurrency?: number;
  /** How often in-flight runs are looked at without a notification (default 250 ms). */
  pollMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
  /** A record became final (in any order; records final already are reported first). */
  onSettled?: (record: BatchRecordRow) => void;
}

export const BATCH_DEFAULTS = { share: 0.5, concurrency: 8 } as const;

const FINAL = new Set<BatchRecordStatus>(['completed', 'failed', 'cancelled', 'escalated', 'invalid']);
/** A record needs nothing more from a driver. */
export const isFinalRecord = (r: BatchRecordRow): boolean => FINAL.has(r.status);

/** The idempotency key of a record's run: one run per record, across every resume and process. */
export const recordKey = (batchId: string, customId: string): string => `batch:${batchId}:${customId}`;

/**
 * Record a batch from its JSONL text. The batch id is a digest of the input and of what else
 * makes it this batch (`scope`: the output path for the CLI; the owner, origin and agent always):
 * the same command again finds the same batch and resumes it (`created: false`).
 */
export async function createBatch(
  system: System,
  opts: { text: string; owner: string; origin: 'cli' | 'http'; agent?: string; scope?: string },
): Promise<{ batch: BatchRow; created: boolean }> {
  const agents = new Set(system.agents.keys());
  if (opts.agent !== undefined && !agents.has(opts.agent))
    throw new UserError(`agent: unknown agent "${opts.agent}"`, 'agent');
  const records = parseBatch(opts.text, agents);
  if (records.length === 0) throw new UserError('the batch has no records (every line is blank)', 'body');
  const inputDigest = digestOf(opts.text);
  const batchId = `batch_${digestOf(opts.owner, opts.origin, opts.agent ?? '', opts.scope ?? '', inputDigest).slice(0, 24)}`;
  const now = system.store.now();
  return system.store.batches.create(
    {
      batchId,
      owner: opts.owner,
      agent: opts.agent ?? null,
      origin: opts.origin,
      inputDigest,
      createdAt: now,
      updatedAt: now,
      status: 'running',
      total: records.length,
    },
    records.map((r) => ({
      batchId,
      index: r.index,
      customId: r.customId,
      request: r.request,
      error: r.error,
      runId: null,
      status: r.error ? 'invalid' : 'pending',
    })),
  );
}

const isRateLimit = (e: JournalEvent): boolean =>
  e.type === 'model.retried' && (e.data as { status?: number }).status === 429;

/** True when a waiting run waits for a person (an approval), not for a delegated run. */
async function waitsForPerson(system: System, runId: string, status: RunStatus): Promise<boolean> {
  if (status === 'needs_attention') return true;
  if (status !== 'waiting') return false;
  return (await system.store.approvals.list({ runId, status: 'pending', limit: 1 })).length > 0;
}

/** Runs of a batch one target may hold: `share` of its concurrency, at least one (`''`: the router). */
function shareOf(system: System, target: string, share: number, routerConcurrency = 4): number {
  const c = target === '' ? routerConcurrency : (system.agents.get(target)?.def.concurrency ?? 1);
  return Math.max(1, Math.floor(share * c));
}

/** Wait `ms`, or less when the function handed to `onWake` is called (a notification). */
function nap(ms: number, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    onWake(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Submit and follow a batch's records until each is final or waiting for a person, the batch is
 * cancelled, or `signal` aborts. Safe to call again at any point (and from several processes).
 */
export async function driveBatch(system: System, batchId: string, opts: DriveOptions = {}): Promise<void> {
  const { store } = system;
  const batch = await store.batches.get(batchId);
  if (!batch) throw new UserError(`batch ${batchId} not found`, 'batchId');
  const share = opts.share ?? BATCH_DEFAULTS.share;
  const pace = createPace(opts.concurrency ?? BATCH_DEFAULTS.concurrency);
  const capOf = (target: string): number => shareOf(system, target, share, opts.routerConcurrency);
  const records = await store.batches.records(batchId);
  const targetOf = (r: BatchRecordRow): string => r.request?.agent ?? batch.agent ?? '';
  const pending = records.filter((r) => r.status === 'pending');
  const inFlight = new Map<string, BatchRecordRow>(); // runId → record
  const parked = new Map<string, BatchRecordRow>(); // waiting for a person
  let done = records.filter(isFinalRecord).length;
  let failed = records.filter((r) => r.status === 'failed' || r.status === 'invalid').length;
  for (const r of records) if (r.status === 'submitted' && r.runId) inFlight.set(r.runId, r);
  for (const r of records) if (isFinalRecord(r)) opts.onSettled?.(r);

  let wake: (() => void) | null = null;
  const kick = (): void => {
    wake?.();
  };
  const unlisten = store.listen({
    appended: (events) => {
      for (const e of events) {
        if (!inFlight.has(e.runId) && !parked.has(e.runId)) continue;
        if (isRateLimit(e)) pace.slowDown(store.now(), (e.data as { delayMs?: number }).delayMs);
        kick();
      }
    },
  });
  const onAbort = (): void => kick();
  opts.signal?.addEventListener('abort', onAbort);
  const report = (): void =>
    opts.onProgress?.({
      batchId,
      total: records.length,
      done,
      failed,
      waiting: parked.size,
      inFlight: inFlight.size,
      limit: pace.limit,
    });

  const settle = async (record: BatchRecordRow, runId: string, status: RunStatus): Promise<void> => {
    inFlight.delete(runId);
    parked.delete(runId);
    const to = status as BatchRecordStatus;
    await store.batches.setRecord(batchId, record.index, { status: to }, ['submitted', 'pending']);
    const final = { ...record, runId, status: to };
    done++;
    if (status === 'failed') {
      failed++;
      pace.slowDown(store.now());
    } else pace.ok();
    opts.onSettled?.(final);
  };

  const submit = async (record: BatchRecordRow): Promise<void> => {
    const req = record.request!;
    let runId: string;
    try {
      ({ runId } = await system.submit({
        actorId: batch.owner,
        sessionId: req.sessionId ?? `${batchId}:${record.index}`,
        input: req.input,
        channel: 'batch',
        ...(targetOf(record) ? { agent: targetOf(record) } : {}),
        idempotencyKey: recordKey(batchId, record.customId),
        metadata: { ...req.metadata, batch: batchId, batchRecord: record.customId },
      }));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // The request cannot become a run (its agent left the configuration): an invalid record.
      await store.batches.setRecord(batchId, record.index, { status: 'invalid', error: errorData(error) }, [
        'pending',
      ]);
      done++;
      failed++;
      opts.onSettled?.({ ...record, status: 'invalid', error: errorData(error) });
      return;
    }
    const claimed = await store.batches.setRecord(batchId, record.index, { status: 'submitted', runId }, [
      'pending',
      'submitted',
    ]);
    // A cancel marked the record first: the run it just got is cancelled too, and kept on the record.
    if (!claimed) {
      await system.cancel(runId, { by: 'batch', reason: `batch ${batchId} cancelled` });
      await store.batches.setRecord(batchId, record.index, { status: 'cancelled', runId }, ['cancelled']);
      done++;
      return;
    }
    inFlight.set(runId, { ...record, runId, status: 'submitted' });
  };

  try {
    for (;;) {
      if (opts.signal?.aborted) return;
      const now = (await store.batches.get(batchId))?.status;
      const cancelled = now === 'cancelled';
      // Look at the runs in flight (and the parked ones: an approval may have been decided).
      for (const [runId, record] of [...inFlight, ...parked]) {
        const row = await store.runs.get(runId);
        if (!row) continue;
        if (TERMINAL_STATUSES.has(row.status)) await settle(record, runId, row.status);
        else if (!parked.has(runId) && (await waitsForPerson(system, runId, row.status))) {
          inFlight.delete(runId);
          parked.set(runId, record);
        } else if (parked.has(runId) && !(await waitsForPerson(system, runId, row.status))) {
          parked.delete(runId);
          inFlight.set(runId, record);
        }
      }
      // Submit while the pace, the batch's share of the target agent and the clock allow.
      while (
        !cancelled &&
        pending.length > 0 &&
        inFlight.size < pace.limit &&
        store.now() >= pace.holdUntil
      ) {
        const next = pending[0]!;
        const target = targetOf(next);
        let held = 0;
        for (const r of inFlight.values()) if (targetOf(r) === target) held++;
        if (held >= capOf(target)) break;
        pending.shift();
        await submit(next);
      }
      report();
      if (inFlight.size === 0 && (pending.length === 0 || cancelled)) break;
      const hold = pace.holdUntil > store.now() ? pace.holdUntil - store.now() : Infinity;
      await nap(Math.max(10, Math.min(opts.pollMs ?? 250, hold)), (w) => (wake = w));
      wake = null;
    }
    if (parked.size === 0 && pending.length === 0)
      await store.batches.setStatus(batchId, 'completed', store.now(), ['running']);
  } finally {
    unlisten();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Cancel a batch: records not submitted yet are marked cancelled, runs still going are cancelled
 * through the system. Returns the batch as it is afterwards.
 */
export async function cancelBatch(system: System, batchId: string, by: string): Promise<BatchRow> {
  const { store } = system;
  await store.batches.setStatus(batchId, 'cancelled', store.now(), ['running']);
  for (const r of await store.batches.records(batchId)) {
    if (r.status === 'pending') {
      // Compare-and-set: a driver that submitted it meanwhile sees the cancel and cancels its run.
      if (await store.batches.setRecord(batchId, r.index, { status: 'cancelled' }, ['pending'])) {
        // Its run may exist already (submitted, the record not yet updated): cancel it now too.
        const runId = await store.runs.dedup(
          idempotencyDedupKey(recordKey(batchId, r.customId)),
          store.now(),
        );
        if (runId) {
          await system.cancel(runId, { by, reason: `batch ${batchId} cancelled` });
          await store.batches.setRecord(batchId, r.index, { status: 'cancelled', runId }, ['cancelled']);
        }
        continue;
      }
    }
    const fresh =
      r.status === 'pending' ? (await store.batches.records(batchId, { from: r.index, limit: 1 }))[0] : r;
    if (fresh?.runId && fresh.status === 'submitted') {
      const view = await system.cancel(fresh.runId, { by, reason: `batch ${batchId} cancelled` });
      await store.batches.setRecord(batchId, r.index, { status: view.status as BatchRecordStatus }, [
        'submitted',
      ]);
    }
  }
  const batch = await store.batches.get(batchId);
  if (!batch) throw new UserError(`batch ${batchId} not found`, 'batchId');
  return batch;
}

/** A record as an output row (its run read from the journal). */
export async function resultRow(system: System, r: BatchRecordRow): Promise<BatchResultRow> {
  if (!r.runId) {
    return {
      id: r.customId,
      runId: null,
      status: r.status === 'invalid' ? 'invalid' : r.status === 'cancelled' ? 'cancelled' : 'pending',
      output: null,
      error: r.error,
      totals: null,
    };
  }
  const view = await system.get(r.runId);
  return {
    id: r.customId,
    runId: r.runId,
    status: view.status,
    output: view.output ?? null,
    error: view.error ?? null,
    totals: view.totals,
  };
}

/** The summary of a batch's output rows. */
export function summaryOf(batchId: string, rows: readonly BatchResultRow[]): BatchSummary {
  const s: BatchSummary = {
    batchId,
    total: rows.length,
    completed: 0,
    failed: 0,
    escalated: 0,
    waiting: 0,
    tokens: 0,
    costUsd: 0,
  };
  for (const r of rows) {
    if (r.status === 'completed') s.completed++;
    else if (r.status === 'failed' || r.status === 'invalid') s.failed++;
    else if (r.status === 'escalated') s.escalated++;
    else if (r.status === 'waiting' || r.status === 'needs_attention') s.waiting++;
    if (r.totals) {
      s.tokens += r.totals.inputTokens + r.totals.outputTokens;
      s.costUsd += r.totals.costUsd;
    }
  }
  s.costUsd = Math.round(s.costUsd * 1e6) / 1e6;
  return s;
}

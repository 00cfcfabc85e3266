/**
 * Which PostgreSQL failures are worth retrying, and how long to wait. A lost connection is an
 * operational event (a failover, `pg_terminate_backend`, a restart), never a reason to crash.
 */
import { backoff } from '../../core/backoff.ts';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

const CONNECTION_MESSAGES = [
  /Connection terminated/i,
  /connection error/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /Client was closed/i,
  /terminating connection/i,
];

/** True when the error says the connection (not the statement) failed. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return CONNECTION_MESSAGES.some((re) => re.test(error.message));
}

/** Serialization failure or deadlock: the transaction was rolled back and may simply run again. */
export function isTransientTxError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/** Unique violation on the journal's primary key: another writer took that seq first. */
export function isSeqRace(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'events_pkey';
}

export interface RetryPolicy {
  /** Attempts in all (the first included). */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseMs: 50, maxMs: 2000 };

/** The backoff (core/backoff.ts) before retry n of a store operation (0-based). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  return backoff(attempt + 1, { initialDelayMs: policy.baseMs, maxDelayMs: policy.maxMs }, random());
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deterministic trace and span ids. Every id is a hash of the run id and the step's place in the
 * journal, so any process that reads the journal (the one that wrote it, a worker after a restart,
 * a gateway) derives the same ids: a trace never breaks into orphans across processes or a resume.
 */
import { hash } from 'node:crypto';

const hex = (input: string, bytes: number): string => hash('sha256', input, 'hex').slice(0, bytes * 2);

/** The 16-byte trace id of a root run (children share their root's). */
export const traceIdOf = (rootRunId: string): string => hex(`switchboard:trace:${rootRunId}`, 16);

/**
 * The 8-byte id of one span of a run. `key` names the span within the run: `run`, `route`,
 * `step:<n>`, `model:<n>`, `call:<callId>`, `approval:<approvalId>`.
 */
export const spanIdOf = (runId: string, key: string): string => hex(`switchboard:span:${runId}:${key}`, 8);

/** A W3C `traceparent` header value (sampled). */
export const formatTraceparent = (traceId: string, spanId: string): string => `00-${traceId}-${spanId}-01`;

/** Parse a W3C `traceparent`; null when it is malformed or all-zero. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string } | null {
  if (typeof value !== 'string') return null;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value.trim().toLowerCase());
  if (!m || m[1] === 'ff') return null;
  const traceId = m[2] ?? '';
  const spanId = m[3] ?? '';
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return null;
  return { traceId, spanId };
}

/**
 * Headers a tool can forward downstream so its calls join the run's trace: the tool call span is
 * their parent.
 * @example
 * fetch(url, { headers: toolTraceHeaders(traceId, runId, callId) });
 */
export function toolTraceHeaders(traceId: string, runId: string, callId: string): { traceparent: string } {
  return { traceparent: formatTraceparent(traceId, spanIdOf(runId, `call:${callId}`)) };
}

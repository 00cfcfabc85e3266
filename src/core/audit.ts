/**
 * The tamper-evident journal: each event's hash covers its predecessor's hash and its own stored
 * content, so altering any stored byte breaks the chain at that event.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** Hash of one event as stored: `dataText` is the exact JSON text the store keeps. */
export function eventHash(
  prevHash: string,
  runId: string,
  seq: number,
  at: number,
  v: number,
  type: string,
  dataText: string,
): string {
  return createHash('sha256')
    .update(`${prevHash}|${runId}|${seq}|${at}|${v}|${type}|${dataText}`)
    .digest('hex');
}

/** A stored event with its chain fields, as `verifyChain` reads it. */
export interface StoredEvent {
  runId: string;
  seq: number;
  at: number;
  v: number;
  type: string;
  dataText: string;
  prevHash: string;
  hash: string;
}

export type ChainVerdict =
  { ok: true; events: number } | { ok: false; events: number; seq: number; type: string; problem: string };

/** Recompute a run's chain; names the first event whose content or link does not match. */
export function verifyChain(events: readonly StoredEvent[]): ChainVerdict {
  let prev = GENESIS_HASH;
  for (const e of events) {
    if (e.prevHash !== prev)
      return {
        ok: false,
        events: events.length,
        seq: e.seq,
        type: e.type,
        problem: 'link to the previous event is broken',
      };
    const expected = eventHash(e.prevHash, e.runId, e.seq, e.at, e.v, e.type, e.dataText);
    if (expected !== e.hash)
      return {
        ok: false,
        events: events.length,
        seq: e.seq,
        type: e.type,
        problem: 'content does not match its hash (altered)',
      };
    prev = e.hash;
  }
  return { ok: true, events: events.length };
}

/** Canonical JSON (sorted keys) — the digest of tool arguments an approval is bound to. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function argsDigest(args: unknown): string {
  return createHash('sha256').update(canonicalJson(args)).digest('hex');
}

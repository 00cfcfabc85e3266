/**
 * The tamper-evident journal. Each event's hash covers its predecessor's hash and its own stored
 * content, so altering any stored byte breaks the chain at that event. With an audit key the hash
 * is an HMAC (someone who can write the database but does not hold the key cannot recompute it),
 * and each run's head (last seq and hash) is sealed with the key too, so cutting events from the
 * end, or deleting a run's events, is reported. Threat model: docs/governance.md "Tamper evidence".
 *
 * Formats: an unkeyed hash is 64 hex digits (SHA-256, as journals before audit keys were written);
 * a keyed one is `<keyId>.<64 hex>` (HMAC-SHA256), where the key id is a fingerprint of the key, so
 * a run journaled before a rotation still verifies while the old key is listed in `previousKeys`.
 */
import { createHash, createHmac, hash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** The configured audit keys (`audit.key`, `audit.previousKeys`). */
export interface AuditKeys {
  key?: string;
  previousKeys?: readonly string[];
}

/** How a store links and seals its journal, and how verify checks it. */
export interface AuditChain {
  /** Id of the key new hashes are made with; `null` when unkeyed. */
  readonly keyId: string | null;
  /** Hash of one new event; `dataText` is the exact JSON text the store keeps. */
  link(
    prevHash: string,
    runId: string,
    seq: number,
    at: number,
    v: number,
    type: string,
    dataText: string,
  ): string;
  /** Seal of a run's head: binds "this run ends at `seq` with `hash`". */
  seal(runId: string, seq: number, hash: string): string;
  /** Check a stored hash or seal against its content: which key made it, or why it cannot be trusted. */
  check(stored: string, content: string): 'ok' | 'altered' | 'unknown-key' | 'unkeyed';
}

/** A key's id: a short fingerprint (the key itself is never stored). */
export const auditKeyId = (key: string): string =>
  createHash('sha256').update(`switchboard-audit-key|${key}`).digest('hex').slice(0, 12);

const linkText = (
  prev: string,
  runId: string,
  seq: number,
  at: number,
  v: number,
  type: string,
  data: string,
) => `${prev}|${runId}|${seq}|${at}|${v}|${type}|${data}`;
const sealText = (runId: string, seq: number, hash: string) => `head|${runId}|${seq}|${hash}`;
/** SHA-256 in hex, one shot: no Hash object per event (the journal hashes every event it stores). */
const sha = (text: string): string => hash('sha256', text, 'hex');
/**
 * Past this many characters of event data, a link is hashed from its two parts instead of one
 * string: the joined text would be a copy of the data, made only to be hashed (below it, the one
 * shot is faster than a Hash object with two updates, and the copy is small).
 */
const LINK_STREAM_CHARS = 512;
/** `sha(linkText(...))`: the same digest, without copying a large `data` to join it. */
function linkSha(
  prev: string,
  runId: string,
  seq: number,
  at: number,
  v: number,
  type: string,
  data: string,
): string {
  if (data.length <= LINK_STREAM_CHARS) return sha(linkText(prev, runId, seq, at, v, type, data));
  return createHash('sha256')
    .update(linkText(prev, runId, seq, at, v, type, ''))
    .update(data)
    .digest('hex');
}

/** The chain for a configuration: HMAC with `key` when there is one, else plain SHA-256. */
export function auditChain(keys: AuditKeys = {}): AuditChain {
  const known = new Map<string, string>();
  for (const k of [keys.key, ...(keys.previousKeys ?? [])]) if (k) known.set(auditKeyId(k), k);
  const current = keys.key ? auditKeyId(keys.key) : null;
  const make = (text: string): string =>
    current === null
      ? sha(text)
      : `${current}.${createHmac('sha256', known.get(current) ?? '')
          .update(text)
          .digest('hex')}`;
  return {
    keyId: current,
    link: (prev, runId, seq, at, v, type, dataText) =>
      current === null
        ? linkSha(prev, runId, seq, at, v, type, dataText)
        : make(linkText(prev, runId, seq, at, v, type, dataText)),
    seal: (runId, seq, hash) => make(sealText(runId, seq, hash)),
    check(stored, content) {
      const dot = stored.indexOf('.');
      if (dot < 0) {
        if (stored !== sha(content)) return 'altered';
        // A hash anyone can recompute proves nothing once a key is configured.
        return current === null ? 'ok' : 'unkeyed';
      }
      const key = known.get(stored.slice(0, dot));
      if (key === undefined) return 'unknown-key';
      const mac = createHmac('sha256', key).update(content).digest('hex');
      return stored.slice(dot + 1) === mac ? 'ok' : 'altered';
    },
  };
}

/** Hash of one event as stored, unkeyed (`auditChain().link`). */
export function eventHash(
  prevHash: string,
  runId: string,
  seq: number,
  at: number,
  v: number,
  type: string,
  dataText: string,
): string {
  return linkSha(prevHash, runId, seq, at, v, type, dataText);
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

/** A run's head as stored beside its journal: where the run ends, sealed. */
export interface RunHead {
  runId: string;
  seq: number;
  hash: string;
  /** Empty for heads migrated from journals written before heads existed (never sealed). */
  seal: string;
}

/** What is wrong with a run's journal. */
export type ChainProblem =
  | 'altered'
  | 'broken-link'
  | 'unknown-key'
  | 'unkeyed'
  | 'truncated'
  | 'deleted'
  | 'no-head'
  | 'head-mismatch';

export type ChainVerdict =
  | { ok: true; events: number }
  | { ok: false; events: number; seq: number; type: string; kind: ChainProblem; problem: string };

export interface VerifyOptions {
  /** The chain (keys) to check with; default unkeyed. */
  chain?: AuditChain;
  /** The run's stored head; `undefined` skips the head checks (a journal read alone). */
  head?: RunHead | null;
  /** Accept unkeyed hashes and unsealed heads although a key is configured (journals from before the key). */
  allowUnkeyed?: boolean;
}

/**
 * Recompute a run's chain and compare it with its head; names the first event whose content or
 * link does not match, or how the journal and its head disagree (cut from the end, deleted).
 */
export function verifyChain(events: readonly StoredEvent[], options: VerifyOptions = {}): ChainVerdict {
  const chain = options.chain ?? auditChain();
  const fail = (seq: number, type: string, kind: ChainProblem, problem: string): ChainVerdict => ({
    ok: false,
    events: events.length,
    seq,
    type,
    kind,
    problem,
  });
  const trusted = (verdict: ReturnType<AuditChain['check']>): ChainProblem | null =>
    verdict === 'ok' || (verdict === 'unkeyed' && options.allowUnkeyed) ? null : verdict;
  let prev = GENESIS_HASH;
  for (const e of events) {
    if (e.prevHash !== prev)
      return fail(e.seq, e.type, 'broken-link', 'link to the previous event is broken');
    const problem = trusted(
      chain.check(e.hash, linkText(e.prevHash, e.runId, e.seq, e.at, e.v, e.type, e.dataText)),
    );
    if (problem === 'altered')
      return fail(e.seq, e.type, problem, 'content does not match its hash (altered)');
    if (problem === 'unknown-key')
      return fail(e.seq, e.type, problem, `hashed with key ${e.hash.split('.')[0]}, which is not configured`);
    if (problem === 'unkeyed')
      return fail(
        e.seq,
        e.type,
        problem,
        'hash is unkeyed: anyone with write access could have recomputed it',
      );
    prev = e.hash;
  }
  const head = options.head;
  if (head === undefined) return { ok: true, events: events.length };
  const last = events.at(-1);
  if (head === null)
    return fail(last?.seq ?? 0, last?.type ?? '', 'no-head', 'the run has no stored head (deleted?)');
  const sealed =
    head.seal === ''
      ? chain.keyId === null
        ? null
        : 'unkeyed'
      : trusted(chain.check(head.seal, sealText(head.runId, head.seq, head.hash)));
  if (sealed === 'unkeyed' && !options.allowUnkeyed)
    return fail(head.seq, '', 'unkeyed', 'the head is not sealed with a key');
  if (sealed === 'altered' || sealed === 'unknown-key')
    return fail(head.seq, '', 'head-mismatch', `the head's seal does not match it (${sealed})`);
  if (!last)
    return fail(
      head.seq,
      '',
      'deleted',
      `the head says ${head.seq} events, but the journal has none (deleted)`,
    );
  if (head.seq > last.seq)
    return fail(
      last.seq + 1,
      '',
      'truncated',
      `events ${last.seq + 1}..${head.seq} were cut from the end (the head says ${head.seq})`,
    );
  if (head.seq < last.seq || head.hash !== last.hash)
    return fail(
      head.seq,
      last.type,
      'head-mismatch',
      `the journal ends at ${last.seq}, its head at ${head.seq}`,
    );
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
  return sha(canonicalJson(args));
}

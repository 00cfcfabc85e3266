/**
 * Redaction of telemetry attributes and log fields. Configured secret values are replaced wherever
 * they occur in a string, and so is everything error scrubbing removes (core/scrub.ts: bearer/basic
 * credentials, key-like tokens, URL passwords) and `key=value` / `Key: value` pairs
 * under a secret-looking name; values under secret-looking keys are dropped whole — object keys,
 * `Map` keys, `[name, value]` pairs and flat `[name, value, name, value]` header lists (Node's
 * `rawHeaders`) alike. Applied to every string that leaves the process, content or not.
 *
 * No shape lets a value through unredacted: beyond {@link MAX_DEPTH} levels a value is replaced
 * by {@link TOO_DEEP}, a cycle by {@link CIRCULAR}, binary data by its length, and what an object's
 * `toJSON` would serialize is redacted like any other value.
 */

import { createScrubber } from '../core/scrub.ts';

/** Keys whose values are never exported (matched case-insensitively on the last path segment). */
export const DEFAULT_SECRET_KEYS =
  /(pass(word)?|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key)/i;

export const REDACTED = '[REDACTED]';
/** What a value nested deeper than {@link MAX_DEPTH} becomes: it is never exported raw. */
export const TOO_DEEP = '[REDACTED: nested too deep]';
/** What a reference back to an enclosing object becomes. */
export const CIRCULAR = '[CIRCULAR]';
/** Levels of objects and arrays kept; deeper ones are replaced by {@link TOO_DEEP}. */
export const MAX_DEPTH = 20;

export interface RedactionOptions {
  /** Literal secret values (API keys, passwords from tool config) that must never be exported. */
  secrets?: readonly string[];
  /** Keys whose values are replaced wholesale. */
  secretKeys?: RegExp;
}

export type Redactor = {
  /** Redact secret values inside a string. */
  text(value: string): string;
  /** Redact a JSON-like value (keys and values), returning a JSON string of at most `max` characters. */
  json(value: unknown, max?: number): string;
};

/** A header or field name: what may precede a value in a pair (no spaces, short). */
const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** At most this many entries of a Map, Set or other iterable are exported. */
const MAX_ENTRIES = 10_000;

function take(iterable: Iterable<unknown>): unknown[] {
  const out: unknown[] = [];
  for (const v of iterable) {
    if (out.length >= MAX_ENTRIES) break;
    out.push(v);
  }
  return out;
}

/** Build a redactor; secrets shorter than 4 characters are ignored (they would shred ordinary text). */
export function createRedactor(options: RedactionOptions = {}): Redactor {
  // The scrubber errors go through (core/scrub.ts): configured secrets, bearer/basic credentials,
  // key-like tokens, secret pairs and URL passwords; the secret-name rules below come on top.
  const scrubber = createScrubber(options.secrets ?? [], { marker: REDACTED, minSecretLength: 4 });
  const given = options.secretKeys ?? DEFAULT_SECRET_KEYS;
  // A copy without `g`/`y`: `test` on a global expression would carry state between calls.
  const keys = new RegExp(given.source, given.flags.replace(/[gy]/g, ''));
  // `api_key=…` in a query string, `Authorization: …` on a header line.
  const assignment = new RegExp(`([A-Za-z0-9_.-]*(?:${keys.source})[A-Za-z0-9_.-]*=)[^\\s&;,"']+`, 'gi');
  const headerLine = new RegExp(`^([ \\t]*[A-Za-z0-9_-]*(?:${keys.source})[A-Za-z0-9_-]*:)[^\\r\\n]*`, 'gim');
  const isSecretName = (v: unknown): boolean => typeof v === 'string' && NAME.test(v) && keys.test(v);

  const text = (value: string): string => {
    return scrubber.text(value).replace(assignment, `$1${REDACTED}`).replace(headerLine, `$1 ${REDACTED}`);
  };

  const scrub = (value: unknown, depth: number, ancestors: Set<object>): unknown => {
    if (typeof value === 'string') return text(value);
    if (typeof value === 'bigint') return String(value);
    if (value === null || typeof value !== 'object') return value;
    if (ancestors.has(value)) return CIRCULAR;
    if (depth >= MAX_DEPTH) return TOO_DEEP;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
      return `[binary, ${value.byteLength} bytes]`;
    ancestors.add(value);
    try {
      const inner = (v: unknown): unknown => scrub(v, depth + 1, ancestors);
      // What JSON.stringify would write is what is redacted (a Date, a class with toJSON).
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return inner(toJSON.call(value));
      if (Array.isArray(value)) return array(value, inner);
      // A Map, Set, Headers or URLSearchParams: its entries, as an array of pairs or values.
      if (Symbol.iterator in value) return array(take(value as Iterable<unknown>), inner);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[text(k)] = keys.test(k) ? REDACTED : inner(v);
      // A `{ name: 'authorization', value: '…' }` entry (HAR, fetch header lists).
      for (const nameKey of ['name', 'key'])
        if (isSecretName((value as Record<string, unknown>)[nameKey]) && 'value' in out) out.value = REDACTED;
      return out;
    } finally {
      ancestors.delete(value);
    }
  };

  const array = (value: unknown[], inner: (v: unknown) => unknown): unknown[] => {
    // A pair: ['authorization', 'Bearer …'].
    if (value.length === 2 && isSecretName(value[0])) return [inner(value[0]), REDACTED];
    // A flat header list: ['Host', 'x', 'Authorization', 'Bearer …'] (names at even indexes).
    if (value.length % 2 === 0 && value.every((v) => typeof v === 'string')) {
      return value.map((v, i) => (i % 2 === 1 && isSecretName(value[i - 1]) ? REDACTED : inner(v)));
    }
    return value.map(inner);
  };

  return {
    text,
    json(value, max = 4096) {
      const s = JSON.stringify(scrub(value, 0, new Set())) ?? 'null';
      // Truncate after redaction so a cut can never expose the tail of a secret.
      return s.length > max ? `${s.slice(0, max - 1)}…` : s;
    },
  };
}

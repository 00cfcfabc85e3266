/**
 * A batch input: JSONL, one request a line — `{"id"?, "input", "sessionId"?, "agent"?,
 * "metadata"?}`. Parsing never fails the batch because of one line: a malformed line, an unknown
 * field or a duplicate id becomes an invalid record with the reason (and its line number), and
 * every other line is still a record. Blank lines are skipped (they are not records); the custom
 * id of a line without `id` is its 1-based line number.
 */
import { createHash } from 'node:crypto';
import type { ErrorData } from '../core/events.ts';
import type { BatchRequest } from '../store/batch-port.ts';
import { storesExactly } from '../store/text.ts';
import { MAX_ID_CHARS, MAX_INPUT_CHARS } from '../core/limits.ts';

/** Why a line is not a record: not JSON, not an object, too long, a bad field, a repeated id. */
export type LineProblem = 'not-json' | 'not-object' | 'too-long' | 'field' | 'duplicate';

/** One non-blank line of the input. */
export interface ParsedRecord {
  index: number;
  /** 1-based line number in the input. */
  line: number;
  customId: string;
  request: BatchRequest | null;
  error: ErrorData | null;
  /** Set with `error`. */
  problem?: LineProblem;
}

/** Longest line parsed, in UTF-16 code units (an `input` is at most 100,000 characters). */
export const MAX_LINE_CHARS = 200_000;
const FIELDS = new Set(['id', 'input', 'sessionId', 'agent', 'metadata']);

class LineError extends Error {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

const invalid = (line: number, message: string, field?: string): ErrorData => ({
  name: 'UserError',
  code: 'invalid_record',
  message: `line ${line}: ${message}`,
  details: { line, ...(field ? { field } : {}) },
});

function text(o: Record<string, unknown>, field: string, max: number): string | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '')
    throw new LineError(`${field} must be a non-empty string`, field);
  if (v.length > max) throw new LineError(`${field} is longer than ${max} characters`, field);
  return v;
}

function metadataOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new LineError('metadata must be an object of strings', 'metadata');
  const entries = Object.entries(v);
  // Two keys stay free for the batch's own labels (batch, batchRecord).
  if (entries.length > 30) throw new LineError('metadata has more than 30 keys', 'metadata');
  for (const [k, x] of entries) {
    if (k === 'batch' || k === 'batchRecord') throw new LineError(`metadata.${k} is reserved`, 'metadata');
    if (typeof x !== 'string' || x.length > 2_000 || k.trim() === '' || k.length > 200)
      throw new LineError(
        `metadata.${k.slice(0, 50)} must be a string of at most 2000 characters`,
        'metadata',
      );
  }
  return Object.fromEntries(entries);
}

function requestOf(o: Record<string, unknown>, agents: ReadonlySet<string> | undefined): BatchRequest {
  for (const k of Object.keys(o))
    if (!FIELDS.has(k)) throw new LineError(`unknown field ${k.slice(0, 50)}`, k);
  const input = text(o, 'input', MAX_INPUT_CHARS);
  if (input === undefined) throw new LineError('input is required (a non-empty string)', 'input');
  const sessionId = text(o, 'sessionId', MAX_ID_CHARS);
  if (sessionId !== undefined && !storesExactly(sessionId))
    throw new LineError('sessionId must not contain NUL or a lone surrogate', 'sessionId');
  const agent = text(o, 'agent', 100);
  if (agent !== undefined && agents && !agents.has(agent))
    throw new LineError(`unknown agent "${agent.slice(0, 100)}"`, 'agent');
  const metadata = metadataOf(o.metadata);
  return {
    input,
    ...(sessionId !== undefined ? { sessionId } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}

function idOf(o: Record<string, unknown>, line: number): string {
  const v = o.id;
  if (v === undefined) return String(line);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_CHARS)
    throw new LineError(`id must be a string of 1 to ${MAX_ID_CHARS} characters or an integer`, 'id');
  if (!storesExactly(v)) throw new LineError('id must not contain NUL or a lone surrogate', 'id');
  return v;
}

/**
 * The records of a JSONL text, in order. `agents`: the agents a record may name (an unknown one
 * is an invalid record, found before anything runs).
 */
export function parseBatch(input: string, agents?: ReadonlySet<string>): ParsedRecord[] {
  const out: ParsedRecord[] = [];
  const seen = new Map<string, number>();
  const lines = input.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    const index = out.length;
    const bad = (customId: string, problem: LineProblem, message: string, field?: string): void =>
      void out.push({ index, line, customId, request: null, error: invalid(line, message, field), problem });
    if (raw.length > MAX_LINE_CHARS) {
      bad(String(line), 'too-long', `line is longer than ${MAX_LINE_CHARS} characters`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      bad(String(line), 'not-json', `not valid JSON (${(error as Error).message.slice(0, 120)})`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      bad(String(line), 'not-object', 'must be a JSON object');
      continue;
    }
    const o = value as Record<string, unknown>;
    let customId: string;
    try {
      customId = idOf(o, line);
    } catch (error) {
      bad(String(line), 'field', (error as LineError).message, 'id');
      continue;
    }
    const first = seen.get(customId);
    if (first !== undefined) {
      bad(customId, 'duplicate', `duplicate id "${customId.slice(0, 50)}" (first on line ${first})`, 'id');
      continue;
    }
    seen.set(customId, line);
    try {
      out.push({ index, line, customId, request: requestOf(o, agents), error: null });
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      bad(customId, 'field', error.message, error.field);
    }
  }
  return out;
}

/** SHA-256 (hex) of the parts, NUL-separated: the digest that names a batch. */
export function digestOf(...parts: string[]): string {
  const h = createHash('sha256');
  parts.forEach((p, i) => {
    if (i) h.update('\u0000');
    h.update(p);
  });
  return h.digest('hex');
}

/**
 * Redaction of telemetry attributes and log fields. Configured secret values are replaced wherever
 * they occur in a string; values under secret-looking keys are dropped whole. Applied to every
 * string that leaves the process, content or not.
 */

/** Keys whose values are never exported (matched case-insensitively on the last path segment). */
export const DEFAULT_SECRET_KEYS =
  /(pass(word)?|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key)/i;

export const REDACTED = '[REDACTED]';

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

/** Build a redactor; secrets shorter than 4 characters are ignored (they would shred ordinary text). */
export function createRedactor(options: RedactionOptions = {}): Redactor {
  const secrets = [...new Set(options.secrets ?? [])]
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length);
  const keys = options.secretKeys ?? DEFAULT_SECRET_KEYS;
  const text = (value: string): string => {
    let out = value;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  };
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return text(value);
    if (value === null || typeof value !== 'object' || depth > 20) return value;
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = keys.test(k) ? REDACTED : scrub(v, depth + 1);
    return out;
  };
  return {
    text,
    json(value, max = 4096) {
      const s = JSON.stringify(scrub(value, 0)) ?? 'null';
      // Truncate after redaction so a cut can never expose the tail of a secret.
      return s.length > max ? `${s.slice(0, max - 1)}…` : s;
    },
  };
}

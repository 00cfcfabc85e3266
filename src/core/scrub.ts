/**
 * Secret scrubbing for error text. A provider's error message can echo the credential it was given
 * ("Incorrect API key provided: sk-…"), a stack can quote a header: every error is scrubbed before
 * it is journaled, logged or returned. Pure: the configured secrets are passed in.
 *
 * Removed: each configured secret (exact value, 8+ characters), bearer/basic credentials, key-like
 * tokens (OpenAI/Anthropic `sk-…`, Switchboard's `sbk_…`, AWS access key ids, GitHub and Slack
 * tokens, Google API keys), `key=value` pairs whose key names a secret, and the password of a URL.
 */
import type { ErrorData } from './events.ts';

export const REDACTED = '[redacted]';

/** Environment variables that hold credentials, by name (plus any `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD`). */
const SECRET_NAME = /(^|_)(API_?KEY|TOKEN|SECRET|SECRET_ACCESS_KEY|PASSWORD|PASSWD|AUTH_TOKEN)$/i;

const PATTERNS: readonly RegExp[] = [
  /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi,
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\bsbk_[A-Za-z0-9_-]{8,}/g,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
];

/** `api_key=…`, `"x-api-key": "…"`, `password: …`: the value after a key that names a secret. */
const SECRET_PAIR =
  /(["']?\b[\w-]*(?:api[_-]?key|secret|password|passwd|access[_-]?token|auth[_-]?token)["']?\s*[:=]\s*["']?)([^\s"'&,;}]{4,})/gi;

/** `scheme://user:password@host`: the password. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi;

export interface Scrubber {
  text(value: string): string;
  /** Every string inside a JSON-like value, scrubbed (bounded depth; deeper values are dropped). */
  value(value: unknown): unknown;
  error(error: ErrorData): ErrorData;
}

/**
 * The values of an environment's credential variables, URL passwords and other configured secrets
 * (`values`: the audit keys) — the ones to scrub, 8+ characters.
 * @example
 * secretsOf({ OPENAI_API_KEY: 'sk-…', HOME: '/home/x' }); // ['sk-…']
 */
export function secretsOf(
  env: Readonly<Record<string, string | undefined>>,
  urls: readonly string[] = [],
  values: readonly (string | undefined)[] = [],
): string[] {
  const out = new Set<string>();
  for (const value of values) if (value && value.length >= 8) out.add(value);
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 8 && SECRET_NAME.test(name)) out.add(value);
  }
  for (const url of urls) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/i.exec(url);
    if (m?.[1] && m[1].length >= 4) {
      out.add(m[1]);
      try {
        out.add(decodeURIComponent(m[1]));
      } catch {
        // Not percent-encoded: the raw value is enough.
      }
    }
  }
  return [...out];
}

/**
 * A scrubber for the given configured secrets (longest first, so no secret survives in part).
 * @example
 * createScrubber(['local-key-123456']).text('401: bad key local-key-123456'); // '401: bad key [redacted]'
 */
export function createScrubber(
  secrets: readonly string[] = [],
  options: {
    /** What a removed secret becomes (default `[redacted]`; telemetry writes `[REDACTED]`). */
    marker?: string;
    /** Shorter configured secrets are ignored: they would shred ordinary text (default 8). */
    minSecretLength?: number;
  } = {},
): Scrubber {
  const marker = options.marker ?? REDACTED;
  const min = options.minSecretLength ?? 8;
  const exact = [...new Set(secrets.filter((s) => s.length >= min))].sort((a, b) => b.length - a.length);
  const text = (input: string): string => {
    let s = input;
    for (const secret of exact) if (s.includes(secret)) s = s.split(secret).join(marker);
    for (const re of PATTERNS)
      s = s.replace(re, (m, scheme: unknown) =>
        typeof scheme === 'string' && /^(bearer|basic|token)$/i.test(scheme) ? `${scheme} ${marker}` : marker,
      );
    s = s.replace(SECRET_PAIR, (_m, key: string) => `${key}${marker}`);
    return s.replace(URL_PASSWORD, (_m, head: string, _pw: string, at: string) => `${head}${marker}${at}`);
  };
  const value = (v: unknown, depth = 0): unknown => {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= 32) return marker;
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = value(x, depth + 1);
    return out;
  };
  return {
    text,
    value: (v) => value(v),
    error: (e) => ({
      name: text(e.name),
      code: text(e.code),
      message: text(e.message),
      ...(e.details ? { details: value(e.details) as Record<string, unknown> } : {}),
    }),
  };
}

/**
 * A thrown value fit to be logged: an Error copy whose message and stack are scrubbed (its class
 * name and `code` kept), or the scrubbed text of anything else.
 */
export function scrubThrown(scrubber: Scrubber, error: unknown): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? scrubber.text(error) : error;
  const copy = new Error(scrubber.text(error.message));
  copy.name = error.name;
  copy.stack = scrubber.text(error.stack ?? '');
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

/** Pattern-only scrubbing (no configured secrets): for places that know none, like the HTTP edge. */
const patternsOnly = createScrubber();
export const scrubText = (value: string): string => patternsOnly.text(value);

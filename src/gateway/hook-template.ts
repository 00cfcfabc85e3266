/**
 * The `input` template of a webhook: text with `{{path.to.field}}` placeholders filled from the
 * JSON payload. Paths only — no expressions, filters or code — so a template can never run
 * anything, whatever a sender puts in its payload.
 */

import { UserError } from '../core/errors.ts';

/** One piece of a compiled template: literal text, or a path into the payload. */
type Part = { text: string } | { path: string[] };

/** A template checked once, at configuration time. */
export interface HookTemplate {
  readonly source: string;
  readonly parts: readonly Part[];
}

const SEGMENT = /^[A-Za-z0-9_$-]+$/;

/**
 * Compile `source`; throws an Error with a one-line reason (the caller names the key) when a
 * placeholder is unterminated or its path is not dot-separated names and array indices.
 * @example
 * compileTemplate('Order {{data.order.id}} from {{data.customer.email}}')
 */
export function compileTemplate(source: string): HookTemplate {
  const parts: Part[] = [];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    if (open < 0) {
      parts.push({ text: source.slice(at) });
      break;
    }
    if (open > at) parts.push({ text: source.slice(at, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new UserError(`unterminated placeholder at character ${open + 1}`);
    const path = source.slice(open + 2, close).trim();
    const segments = path.split('.');
    if (!path || !segments.every((s) => SEGMENT.test(s)))
      throw new UserError(`placeholder {{${path}}} must be a dot-separated path such as data.order.id`);
    parts.push({ path: segments });
    at = close + 2;
  }
  return { source, parts };
}

/** The value at `path` in `payload`, or undefined when any step is missing. */
function lookup(payload: unknown, path: readonly string[]): unknown {
  let value = payload;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    // Own properties only: `{{constructor}}` or `{{__proto__}}` never reach the prototype chain.
    if (!Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

const show = (value: unknown): string => {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

/**
 * Fill `template` from `payload`. A missing path renders as the empty string (a sender's other
 * event types then still arrive, rather than being refused and retried forever); strings render
 * as they are, numbers and booleans as text, objects and arrays as JSON.
 */
export function renderTemplate(template: HookTemplate, payload: unknown): string {
  return template.parts.map((p) => ('text' in p ? p.text : show(lookup(payload, p.path)))).join('');
}

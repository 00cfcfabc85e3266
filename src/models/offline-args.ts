/**
 * Argument extraction of the offline model: fill a tool's JSON-schema parameters from the request
 * and the recent conversation (ids, emails, amounts, dates, quoted text, enum values, numbers).
 */
import type { JSONSchema7, JSONSchema7Definition, LanguageModelV4FunctionTool } from '@ai-sdk/provider';
import { ANAPHORA, quotedStrings, stem, terms, withoutQuotes } from './offline-text.ts';

export const requiredOf = (schema: JSONSchema7): string[] =>
  Array.isArray(schema.required) ? schema.required : [];
export function propSchema(schema: JSONSchema7, name: string): JSONSchema7 | undefined {
  const p: JSONSchema7Definition | undefined = schema.properties?.[name];
  return typeof p === 'object' ? p : undefined;
}

export const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Matches of a JSON-schema pattern anywhere in text, as whole tokens. */
export function findPattern(pattern: string, text: string): string[] {
  const body = pattern.replace(/^\^/, '').replace(/\$$/, '');
  const guarded = `(?<![\\w-])(?:${body})(?![\\w-]|@)`;
  let found: string[];
  try {
    found = [...text.matchAll(new RegExp(guarded, 'g'))].map((m) => m[0]);
    if (!found.length && /[A-Z]/.test(body) && !/[a-z]/.test(body.replace(/\\[a-z]/g, ''))) {
      // People type ids in lower case; the schema wants them upper case.
      found = [...text.matchAll(new RegExp(guarded, 'gi'))].map((m) => m[0].toUpperCase());
    }
  } catch {
    return [];
  }
  return found.filter((v) => v.trim().length > 0);
}

export const MONEY = /\$\s?(\d+(?:[.,]\d{1,2})?)|(\d+(?:\.\d{1,2})?)\s?(?:usd|dollars?|eur|euros?|€)/i;
export const PERCENT = /(\d+(?:\.\d+)?)\s?%/;
export const RATING =
  /\b([0-9]|10)(?:\s?\/\s?(?:5|10)|\s+out of\s+(?:5|10)|\s+stars?)\b|\brat\w*\s+(?:\w+\s+){0,2}?([0-9]|10)\b/i;
export const ID_LIKE =
  /\b[A-Za-z]+-[A-Za-z0-9]+\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

export function numberFor(name: string, prop: JSONSchema7, text: string): number | undefined {
  const label = `${name} ${prop.description ?? ''}`.toLowerCase();
  const clean = text.replace(ID_LIKE, ' ');
  let value: number | undefined;
  if (/amount|price|total|cost|sum|dollar|money|fee/.test(label)) {
    const m = MONEY.exec(clean);
    if (m) value = Number((m[1] ?? m[2] ?? '').replace(',', '.'));
  } else if (/percent|pct|rate\b/.test(label)) {
    const m = PERCENT.exec(clean);
    if (m) value = Number(m[1]);
  } else if (/rating|stars?|score/.test(label)) {
    const m = RATING.exec(clean);
    if (m) value = Number(m[1] ?? m[2]);
  } else {
    // A count: a number right before or after one of the parameter's own words ("top 3", "3 orders").
    const words = terms(label).filter((w) => w.length > 2);
    const tokens = clean.toLowerCase().match(/[a-z]+|\d+(?:\.\d+)?/g) ?? [];
    tokens.forEach((tok, i) => {
      if (value !== undefined || !/^\d/.test(tok)) return;
      const near = [tokens[i - 1], tokens[i + 1]].filter((x): x is string => !!x).map(stem);
      if (near.some((w) => words.includes(w) || ['top', 'last', 'first'].includes(w))) value = Number(tok);
    });
  }
  if (value === undefined || Number.isNaN(value)) return undefined;
  if (prop.type === 'integer' && !Number.isInteger(value)) return undefined;
  if (typeof prop.minimum === 'number' && value < prop.minimum) return undefined;
  if (typeof prop.maximum === 'number' && value > prop.maximum) return undefined;
  if (typeof prop.exclusiveMinimum === 'number' && value <= prop.exclusiveMinimum) return undefined;
  return value;
}

export function enumFor(values: unknown[], text: string, loose: boolean): unknown {
  const plain = ` ${text.toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  const stems = new Set(terms(text));
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const phrase = v.toLowerCase().replace(/[_-]+/g, ' ');
    if (plain.includes(` ${phrase} `)) return v;
  }
  if (!loose) return undefined;
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const vt = terms(v.replace(/[_-]+/g, ' '));
    if (vt.length && vt.every((t) => stems.has(t))) return v;
  }
  return undefined;
}

export const CUES: Array<[RegExp, RegExp]> = [
  [/reason|why|cause/, /\b(?:because|since|due to|as)\s+(.+)$/i],
  [/subject|topic|about|title/, /\b(?:about|regarding|re:|concerning|for a|for an)\s+(.+)$/i],
  [/body|message|text|comment|content|note/, /(?:\bsaying|\bthat says|\bthat|:)\s+(.+)$/i],
];

/** Free text for a string parameter without quotes: a cue's tail ("because …") or the clause. */
export function freeText(name: string, prop: JSONSchema7, clause: string): string | undefined {
  const label = `${name} ${prop.description ?? ''}`.toLowerCase();
  for (const [labelRe, cue] of CUES) {
    if (labelRe.test(label)) {
      const m = cue.exec(clause);
      if (m?.[1] && m[1].trim().length >= 3) return m[1].trim().replace(/[.?!]+$/, '');
    }
  }
  return undefined;
}

export interface Extraction {
  input: Record<string, unknown>;
  missing: string[];
}

/**
 * Extract a tool's arguments by its JSON schema from a clause, the whole request and the
 * conversation (identifiers only), most specific source first.
 */
export function extractArguments(
  tool: LanguageModelV4FunctionTool,
  clause: string,
  context: { request: string; sources: string[] },
): Extraction {
  const schema = tool.inputSchema;
  const required = new Set(requiredOf(schema));
  const props = Object.entries(schema.properties ?? {}).filter(
    (e): e is [string, JSONSchema7] => typeof e[1] === 'object',
  );
  const input: Record<string, unknown> = {};
  const used = new Set<string>();
  const plainClause = withoutQuotes(clause);
  const plainRequest = withoutQuotes(context.request);
  const take = (values: string[]): string | undefined => {
    const v = values.find((x) => !used.has(x));
    if (v !== undefined) used.add(v);
    return v;
  };
  const identifier = (prop: JSONSchema7): ((text: string) => string[]) | undefined => {
    if (prop.type !== 'string' || prop.enum) return undefined;
    if (prop.format === 'email') return (t) => [...t.matchAll(EMAIL)].map((m) => m[0]);
    if (prop.pattern) return (t) => findPattern(prop.pattern as string, t);
    return undefined;
  };

  // 1. Identifiers (patterns, emails) from the clause, then from the rest of the request.
  for (const [name, prop] of props) {
    const find = identifier(prop);
    if (!find) continue;
    const v = take(find(plainClause)) ?? (required.has(name) ? take(find(plainRequest)) : undefined);
    if (v !== undefined) input[name] = v;
  }
  // 2. Enum values, numbers, booleans.
  for (const [name, prop] of props) {
    if (name in input) continue;
    if (Array.isArray(prop.enum)) {
      const v =
        enumFor(prop.enum, plainClause, required.has(name)) ??
        (required.has(name) ? enumFor(prop.enum, plainRequest, true) : undefined);
      if (v !== undefined) input[name] = v;
    } else if (prop.type === 'number' || prop.type === 'integer') {
      const v =
        numberFor(name, prop, plainClause) ??
        (required.has(name) ? numberFor(name, prop, plainRequest) : undefined);
      if (v !== undefined) input[name] = v;
    }
  }
  // 3. Free text: quoted strings go to required text parameters first, then optional ones.
  const texts = props.filter(
    ([name, p]) => p.type === 'string' && !p.enum && !identifier(p) && !(name in input),
  );
  const ordered = [...texts.filter(([n]) => required.has(n)), ...texts.filter(([n]) => !required.has(n))];
  const quotes = quotedStrings(clause).length ? quotedStrings(clause) : quotedStrings(context.request);
  for (const [name] of ordered) {
    const q = quotes.shift();
    if (q === undefined) break;
    input[name] = q;
  }
  for (const [name, prop] of ordered) {
    if (name in input) continue;
    const cued = freeText(name, prop, clause);
    if (cued !== undefined) input[name] = cued;
    else if (required.has(name)) input[name] = clause.trim();
  }
  // 4. Identifiers still missing come from the conversation, most recent first. Optional ones only
  //    when the clause points back ("my order", "her account"), and then only the most recent one.
  const pointsBack = ANAPHORA.test(plainClause);
  let optionalFilled = false;
  for (const source of context.sources) {
    for (const [name, prop] of props) {
      if (name in input) continue;
      const find = identifier(prop);
      if (!find) continue;
      if (!required.has(name) && (!pointsBack || optionalFilled)) continue;
      const v = take(find(source));
      if (v !== undefined) {
        input[name] = v;
        if (!required.has(name)) optionalFilled = true;
      }
    }
  }
  // A tool whose parameters are all optional still needs something to work on.
  const missing = [...required].filter((n) => !(n in input));
  if (required.size === 0 && Object.keys(input).length === 0 && props.length > 0) {
    const firstId = props.find(([, p]) => identifier(p));
    if (firstId) missing.push(firstId[0]);
  }
  return { input, missing };
}

// ---------------------------------------------------------------------------------------------
// The policy

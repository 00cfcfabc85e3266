/**
 * Tools a request needs but never names. Two sources, both offline and explainable:
 *
 * - **Schema links**: a tool that requires an identifier the request does not supply (an order id,
 *   a customer) cannot run alone; the tools that produce that identifier (their name, description
 *   or output schema names its entity, and they do not require it themselves) are pulled in with a
 *   decaying score, transitively.
 * - **Co-usage priors**: tools that were called together in completed runs (learned from the
 *   journal): a strong candidate pulls in its usual companions.
 *
 * Every addition carries its provenance (`via`, `from`, `argument`), journaled in `tools.retrieved`.
 */
import type { JournalEvent } from '../core/events.ts';
import { stem, words } from './text.ts';
import type { RoutingTarget, ToolLinkData } from './types.ts';

/**
 * Words that say "identifier" rather than which entity it identifies. Not `key`: an API key or a
 * secret comes from the caller's configuration, never from another tool's result.
 */
const GENERIC = new Set(['id', 'ids', 'identifier', 'uuid', 'number', 'num', 'no', 'ref', 'reference']);

/**
 * An identifier that many tools mention is not one a few lookups produce (an `api` or a `project`
 * named by half a catalog): such needs link nothing rather than flood the candidates.
 */
const MAX_PRODUCERS = 3;

/** One required identifier argument of a consumer tool and the tools that can produce it. */
interface Need {
  argument: string;
  /** Compiled `pattern` of the argument (unanchored), when it has one. */
  pattern: RegExp | null;
  email: boolean;
  /**
   * Tools that produce it, by how they show it: the entity is in the producer's `name`, its text
   * names an identifier of it (`id`: "their order ids"), or its text only `mention`s it.
   */
  producers: { index: number; affinity: 'name' | 'id' | 'mention' }[];
}

/**
 * Verbs that only read. A tool that changes an entity (cancel, modify, return…) is, by the policy of
 * almost every service desk, preceded by the tool that reads the same entity by the same identifier
 * (`cancel_order(order_id)` after `get_order_details(order_id)`): the read shows the status that
 * decides whether the change is allowed.
 */
const READ_VERBS = new Set([
  'get',
  'read',
  'view',
  'show',
  'fetch',
  'retrieve',
  'lookup',
  'look',
  'check',
  'describe',
  'find',
  'list',
  'search',
  'query',
  'inspect',
]);
const reads = (name: string): boolean => READ_VERBS.has(words(name)[0] ?? '');

/**
 * Verbs that change something. Such a tool answers with a confirmation, not with the identifiers
 * its description happens to mention ("does not affect existing orders"): it produces nothing.
 */
const WRITE_VERBS = new Set([
  'add',
  'apply',
  'book',
  'cancel',
  'change',
  'create',
  'delete',
  'edit',
  'exchange',
  'issue',
  'modify',
  'pay',
  'place',
  'post',
  'put',
  'refund',
  'remove',
  'reset',
  'resume',
  'return',
  'send',
  'set',
  'submit',
  'suspend',
  'transfer',
  'update',
]);
const writes = (name: string): boolean => WRITE_VERBS.has(words(name)[0] ?? '');

/**
 * A pattern from the example an identifier's description gives (`e.g. '#W2918342'`): letters
 * stand for letters, a run of n digits for n ± 2 digits, anything else for itself. A request that
 * contains something of that shape supplies the identifier; one that only has another id-like
 * token (a zip code, a phone number) does not.
 */
function examplePattern(description: unknown): RegExp | null {
  if (typeof description !== 'string') return null;
  const example = /(?:e\.g\.|such as|like|for example)[,:]?\s*['"`]([^'"`\s]{4,40})['"`]/iu.exec(
    description,
  )?.[1];
  if (!example || !/\d/u.test(example)) return null;
  const shape = example.replace(/[A-Za-z]+|\d+|[^A-Za-z\d]/gu, (run) => {
    if (/^[A-Za-z]/u.test(run)) return '[A-Za-z]+';
    if (/^\d/u.test(run)) return `\\d{${Math.max(1, run.length - 2)},${run.length + 2}}`;
    return run.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
  });
  return new RegExp(`(?<![\\w-])${shape}(?![\\w-])`, 'u');
}

/** How far links reach and how fast their score decays. */
export interface LinkOptions {
  /** A producer's score is its consumer's fused score times `decay` (per hop) times its affinity. */
  decay: number;
  /**
   * Affinity of a producer whose description or output (not its name) names the entity's
   * identifier ("their order ids", `orderId`).
   */
  textAffinity: number;
  /**
   * Affinity of a producer whose text only mentions the entity, not an identifier of it ("charges
   * per line"): weaker evidence that it returns one.
   */
  mentionAffinity: number;
  /**
   * A changing tool's reader (same required identifier, a read verb): its score is the changing
   * tool's fused score times `readWeight`. 0 turns reader links off.
   */
  readWeight: number;
  /**
   * Producers of the same identifier are alternatives (by email, by name and zip): the one the
   * request can feed best (fewest of its required inputs missing from it) keeps its score, the
   * others are scaled by `alternativeWeight`.
   */
  alternativeWeight: number;
  /** Hops from the request's own candidates (1: direct producers only). */
  maxDepth: number;
  /** How many of the best candidates may pull in producers / companions. */
  seeds: number;
  /** A companion's score is its seed's fused score times `coUsageWeight` times P(companion | seed). */
  coUsageWeight: number;
}

export const DEFAULT_LINKS: LinkOptions = {
  decay: 0.95,
  textAffinity: 1,
  mentionAffinity: 0.7,
  alternativeWeight: 0.6,
  readWeight: 0.9,
  maxDepth: 3,
  seeds: 3,
  coUsageWeight: 1,
};

/** P(b used | a used) over completed runs, for tool pairs seen together. */
export type CoUsagePriors = Readonly<Record<string, Readonly<Record<string, number>>>>;

type Schema = Record<string, unknown>;
const asSchema = (x: unknown): Schema | null => (x && typeof x === 'object' ? (x as Schema) : null);

function required(parameters: unknown): [string, Schema][] {
  const s = asSchema(parameters);
  const props = asSchema(s?.properties);
  if (!s || !props || !Array.isArray(s.required)) return [];
  return s.required
    .filter((n): n is string => typeof n === 'string')
    .map((n): [string, Schema] => [n, asSchema(props[n]) ?? {}]);
}

/**
 * What a tool needs to be called with: its required arguments, or, when it requires none but takes
 * some (look a customer up by email, or by name and postcode), every argument it takes.
 */
function inputsOf(parameters: unknown): [string, Schema][] {
  const needed = required(parameters);
  if (needed.length > 0) return needed;
  const props = asSchema(asSchema(parameters)?.properties);
  return props ? Object.entries(props).map(([n, p]): [string, Schema] => [n, asSchema(p) ?? {}]) : [];
}

/** The entity an identifier argument names (`orderId` → order), or null for a non-identifier. */
function entityOf(name: string, schema: Schema): string | null {
  const parts = words(name);
  const description = typeof schema.description === 'string' ? words(schema.description) : [];
  const idLike =
    ID_WORDS.has(parts.at(-1) ?? '') || description.some((w) => w === 'id' || w === 'identifier');
  if (!idLike) return null;
  const noun = parts.filter((w) => !ID_WORDS.has(w)).at(-1);
  return noun ? stem(noun) : null;
}

function unanchored(pattern: unknown): RegExp | null {
  if (typeof pattern !== 'string') return null;
  try {
    return new RegExp(pattern.replace(/^\^/, '').replace(/\$$/, ''), 'u');
  } catch {
    return null;
  }
}

const stems = (text: string): Set<string> => new Set(words(text).map(stem));
/**
 * Words that make an identifier: at the end of an argument's name (`plan_code`), or right after an
 * entity's noun in a description ("order ids", "reservation codes").
 */
const ID_WORDS = new Set([...GENERIC, 'code', 'codes']);
/** Stems of the nouns a text names an identifier of: `order` in "their order ids" or `orderId`. */
function identified(text: string): Set<string> {
  const ws = words(text);
  const out = new Set<string>();
  ws.forEach((w, i) => {
    if (!GENERIC.has(w) && ID_WORDS.has(ws[i + 1] ?? '')) out.add(stem(w));
  });
  return out;
}
/** Something a text can be tested for: a compiled pattern, or a rule like {@link ID_TOKEN}. */
interface TextTest {
  test(text: string): boolean;
}
const TOKENS = /(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]{2,}/gu;
/** A number with a unit or an ordinal ("256GB", "6mm", "the 20th"): a quantity, not an identifier. */
const QUANTITY = /^\d+(?:st|nd|rd|th|[A-Za-z]{1,3})$/u;
/** Any identifier-like token (letters and digits mixed, not a quantity) supplies an unpatterned id. */
const ID_TOKEN: TextTest = {
  test: (text) => {
    for (const [token] of text.matchAll(TOKENS)) if (!QUANTITY.test(token)) return true;
    return false;
  },
};

/** A person's name: two capitalised words in a row ("Kenji Watanabe"), not one at a sentence's start. */
const PERSON_NAME = /\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?\s+[A-Z][a-z]+/u;
const EMAIL = /[^\s@]+@[^\s@]+\.\w+/u;

/**
 * How a request can supply one argument: its pattern, its example's shape, an email or a person's
 * name; null when nothing in the text would show it (a free-text reason, a quantity).
 */
function supplyTest(argument: string, schema: Schema): RegExp | null {
  const parts = words(argument);
  if (schema.format === 'email' || parts.includes('email')) return EMAIL;
  if (parts.includes('name') && parts.length <= 2) return PERSON_NAME;
  return unanchored(schema.pattern) ?? examplePattern(schema.description);
}

/** Schema links fitted on a catalog. */
export interface SchemaLinks {
  /**
   * Needs of target `index` that `query` does not supply, each producer with how many of its own
   * inputs `query` does not visibly supply (an input no text can show counts as missing).
   */
  unsupplied(
    index: number,
    query: string,
  ): { argument: string; producers: (Need['producers'][number] & { missing: number })[] }[];
  /** For a tool that changes what an identifier names: the tools that read it by the same argument. */
  readers(index: number): readonly { index: number; argument: string }[];
}

/** Find every tool's required identifiers and their producers. */
export function fitSchemaLinks(targets: readonly RoutingTarget[]): SchemaLinks {
  const entities = targets.map((t) =>
    required(t.parameters)
      .map(([n, s]) => entityOf(n, s))
      .filter((e): e is string => e !== null),
  );
  const nameStems = targets.map((t) => stems(t.name));
  const texts = targets.map((t) => `${t.description} ${JSON.stringify(t.output ?? '')}`);
  const textStems = texts.map(stems);
  const idStems = texts.map(identified);
  const needs: Need[][] = targets.map((t, i) =>
    required(t.parameters).flatMap(([argument, schema]) => {
      const entity = entityOf(argument, schema);
      if (!entity) return [];
      const producers: Need['producers'] = [];
      targets.forEach((t, j) => {
        if (j === i || entities[j]?.includes(entity) || writes(t.name)) return;
        if (nameStems[j]?.has(entity)) producers.push({ index: j, affinity: 'name' });
        else if (idStems[j]?.has(entity)) producers.push({ index: j, affinity: 'id' });
        else if (textStems[j]?.has(entity)) producers.push({ index: j, affinity: 'mention' });
      });
      if (producers.length === 0 || producers.length > MAX_PRODUCERS) return [];
      const pattern = unanchored(schema.pattern) ?? examplePattern(schema.description);
      return [{ argument, pattern, email: schema.format === 'email', producers }];
    }),
  );
  const readers = targets.map((t, i) => {
    if (!writes(t.name)) return [];
    return required(t.parameters).flatMap(([argument, schema]) => {
      const entity = entityOf(argument, schema);
      if (!entity) return [];
      const found = targets.flatMap((r, j) =>
        j !== i && reads(r.name) && entities[j]?.includes(entity) ? [{ index: j, argument }] : [],
      );
      return found.length > MAX_PRODUCERS ? [] : found;
    });
  });
  const inputs = targets.map((t) =>
    inputsOf(t.parameters).map(([argument, schema]) => supplyTest(argument, schema)),
  );
  // A retrieval asks about several candidates' needs with the same query (the whole conversation):
  // each pattern is tested on it once.
  let lastQuery: string | undefined;
  const supplied = new Map<TextTest, boolean>();
  const suppliedBy = (pattern: TextTest, query: string): boolean => {
    if (query !== lastQuery) {
      supplied.clear();
      lastQuery = query;
    }
    let hit = supplied.get(pattern);
    if (hit === undefined) supplied.set(pattern, (hit = pattern.test(query)));
    return hit;
  };
  return {
    unsupplied(index, query) {
      return (needs[index] ?? [])
        .filter((n) =>
          n.pattern
            ? !suppliedBy(n.pattern, query)
            : n.email
              ? !query.includes('@')
              : !suppliedBy(ID_TOKEN, query),
        )
        .map((n) => ({
          argument: n.argument,
          producers: n.producers.map((p) => ({
            ...p,
            missing: (inputs[p.index] ?? []).filter((test) => !test || !suppliedBy(test, query)).length,
          })),
        }));
    },
    readers: (index) => readers[index] ?? [],
  };
}

/**
 * Learn co-usage priors from the tools each completed run called (in order; repeats allowed).
 * A pair needs `minRuns` runs of the first tool to count: one run is an anecdote.
 */
export function learnCoUsage(runs: readonly (readonly string[])[], minRuns = 2): CoUsagePriors {
  const single = new Map<string, number>();
  const pair = new Map<string, Map<string, number>>();
  for (const run of runs) {
    const used = [...new Set(run)];
    for (const a of used) {
      single.set(a, (single.get(a) ?? 0) + 1);
      for (const b of used) {
        if (a === b) continue;
        const row = pair.get(a) ?? new Map<string, number>();
        row.set(b, (row.get(b) ?? 0) + 1);
        pair.set(a, row);
      }
    }
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [a, row] of pair) {
    const n = single.get(a) ?? 0;
    if (n < minRuns) continue;
    out[a] = Object.fromEntries([...row].map(([b, c]) => [b, Math.round((c / n) * 10_000) / 10_000]));
  }
  return out;
}

/**
 * The tools each completed run called (first attempts, in order), read from journal events of any
 * number of runs: what {@link learnCoUsage} learns from. Failed, cancelled or unfinished runs are
 * left out: a tool used on the way to a failure is no evidence that the two belong together.
 */
export function completedRunTools(events: Iterable<JournalEvent>): string[][] {
  const tools = new Map<string, string[]>();
  const completed = new Set<string>();
  for (const e of events) {
    if (e.type === 'run.completed') completed.add(e.runId);
    else if (e.type === 'tool.started' && e.data.attempt === 1) {
      const list = tools.get(e.runId) ?? [];
      list.push(e.data.tool);
      tools.set(e.runId, list);
    }
  }
  return [...tools].filter(([run]) => completed.has(run)).map(([, list]) => list);
}

/** A candidate as the expansion sees it. */
export interface Ranked {
  index: number;
  fused: number;
}

/**
 * Expand the best `seeds` candidates with their producers (transitively) and co-used companions.
 * Returns, per target index, the best linked score and its provenance; a link only counts where it
 * beats the target's own score (the caller merges).
 */
export function expandLinks(
  seeds: readonly Ranked[],
  query: string,
  links: SchemaLinks,
  names: readonly string[],
  allowed: (index: number) => boolean,
  coUsage: CoUsagePriors | undefined,
  options: LinkOptions,
): Map<number, ToolLinkData & { score: number }> {
  const out = new Map<number, ToolLinkData & { score: number }>();
  const offer = (index: number, score: number, link: ToolLinkData): boolean => {
    if (!allowed(index) || score <= (out.get(index)?.score ?? 0)) return false;
    out.set(index, { ...link, score: Math.round(score * 10_000) / 10_000 });
    return true;
  };
  const top = seeds.slice(0, options.seeds);
  let frontier: Ranked[] = [...top];
  for (let depth = 1; depth <= options.maxDepth && frontier.length > 0; depth++) {
    const next: Ranked[] = [];
    for (const c of frontier) {
      for (const need of links.unsupplied(c.index, query)) {
        const fewest = Math.min(...need.producers.map((p) => p.missing));
        for (const p of need.producers) {
          const affinity =
            p.affinity === 'name' ? 1 : p.affinity === 'id' ? options.textAffinity : options.mentionAffinity;
          const alternative = p.missing > fewest ? options.alternativeWeight : 1;
          const score = c.fused * options.decay * affinity * alternative;
          const from = names[c.index] as string;
          if (offer(p.index, score, { via: 'schema', from, argument: need.argument }))
            next.push({ index: p.index, fused: score });
        }
      }
    }
    if (depth === 1 && options.readWeight > 0) {
      for (const c of top) {
        for (const r of links.readers(c.index)) {
          const score = c.fused * options.readWeight;
          const from = names[c.index] as string;
          if (offer(r.index, score, { via: 'reads', from, argument: r.argument }))
            next.push({ index: r.index, fused: score });
        }
      }
    }
    frontier = next;
  }
  if (coUsage) {
    const indexOf = new Map(names.map((n, i) => [n, i]));
    for (const c of top) {
      const row = coUsage[names[c.index] as string];
      if (!row) continue;
      for (const [b, p] of Object.entries(row)) {
        const j = indexOf.get(b);
        if (j === undefined || j === c.index) continue;
        offer(j, c.fused * options.coUsageWeight * p, { via: 'co-usage', from: names[c.index] as string });
      }
    }
  }
  return out;
}

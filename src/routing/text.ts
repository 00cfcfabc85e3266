/**
 * Text normalisation shared by every routing scorer: tokenisation that understands identifiers
 * (snake_case, camelCase, dotted names), a light English stemmer, stopwords and feature hashing.
 * Pure and deterministic.
 */
import { mulberry32 } from '../core/random.ts';

/** Words that carry no routing signal on their own (kept in classifier n-grams, dropped by BM25). */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but if then else of to in on at by for with from into onto about as is are was were be been ' +
    'being am do does did doing have has had having i me my mine myself we us our ours you your yours he him his ' +
    'she her hers it its they them their theirs this that these those there here what which who whom whose when ' +
    'where why how can could would should will shall may might must please pls just also so too very really any ' +
    'some all no not nor only own same than such up down out over under again further once s t don now let lets ' +
    'want wanted wants need needs needed like would hi hello hey thanks thank tell give show help know get got ' +
    'make go going im ive id dont cant isnt wasnt doesnt didnt'
  ).split(' '),
);

const IRREGULAR: Record<string, string> = { children: 'child', people: 'person', men: 'man', women: 'woman' };

/**
 * A light suffix stemmer (plural, -ing, -ed, -ly, a few derivational endings). It conflates the
 * common inflections routing cares about ("transfers", "transferring", "transferred") without the
 * over-stemming of a full Porter stemmer.
 */
export function stem(word: string): string {
  let s = STEMS.get(word);
  if (s === undefined) {
    if (STEMS.size >= MAX_CACHED_STEMS) STEMS.clear();
    s = stemUncached(word);
    STEMS.set(word, s);
  }
  return s;
}

/**
 * Stems of recently seen words: a conversation is scored again at every step, and its words recur.
 * Bounded (cleared when full), so an adversarial stream of distinct words costs no more than before.
 */
const STEMS = new Map<string, string>();
const MAX_CACHED_STEMS = 20_000;

function stemUncached(word: string): string {
  const irregular = IRREGULAR[word];
  if (irregular) return irregular;
  if (word.length <= 3 || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:ches|shes|xes|zes)$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = undouble(w.slice(0, -3));
  else if (w.length > 4 && w.endsWith('ied')) w = w.slice(0, -3) + 'y';
  else if (w.length > 4 && w.endsWith('ed') && !w.endsWith('eed')) w = undouble(w.slice(0, -2));
  if (w.length > 5 && w.endsWith('ly')) w = w.slice(0, -2);
  if (w.length > 7 && w.endsWith('ation')) w = w.slice(0, -5) + 'e';
  else if (w.length > 6 && w.endsWith('ment')) w = w.slice(0, -4);
  else if (w.length > 5 && w.endsWith('er') && !w.endsWith('eer')) w = undouble(w.slice(0, -2));
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  const n = w.length;
  if (n >= 4 && w[n - 1] === w[n - 2] && !/[lsz]/.test(w[n - 1] ?? '')) return w.slice(0, -1);
  return w;
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Split text into lower-case words, breaking identifiers at case changes, digits, underscores and
 * dots: `getCurrentWeather` → get current weather, `HNA_WQA.search` → hna wqa search.
 */
export function words(text: string): string[] {
  return isAscii(text) ? asciiWords(text) : unicodeWords(text);
}

/** Whether every UTF-16 unit of `text` is below 128. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false;
  return true;
}

/** ASCII character classes: 0 other, 1 lower-case letter, 2 upper-case letter, 3 digit. */
const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;
const ASCII_CLASS = Uint8Array.from({ length: 128 }, (_, c) =>
  c >= 97 && c <= 122 ? LOWER : c >= 65 && c <= 90 ? UPPER : c >= 48 && c <= 57 ? DIGIT : OTHER,
);

/**
 * {@link words} of an ASCII text in one pass, without the four rewriting regexes: on ASCII they
 * insert a break exactly between a lower-case letter or digit and an upper-case letter, before the
 * last capital of a capital run followed by a lower-case letter (`HTTPServer` → http server), and
 * between a letter and a digit either way; the words are then the runs of letters and digits.
 */
function asciiWords(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let start = -1;
  let prev = OTHER;
  for (let i = 0; i < n; i++) {
    const cls = ASCII_CLASS[text.charCodeAt(i)] as number;
    if (cls === OTHER) {
      if (start >= 0) out.push(text.slice(start, i).toLowerCase());
      start = -1;
    } else if (start < 0) {
      start = i;
    } else if (cls === LOWER && prev === UPPER) {
      // Before the last capital of a run of capitals: HTTPServer → http server.
      if (i - 1 > start && ASCII_CLASS[text.charCodeAt(i - 2)] === UPPER) {
        out.push(text.slice(start, i - 1).toLowerCase());
        start = i - 1;
      }
    } else if (
      (cls === UPPER && (prev === LOWER || prev === DIGIT)) ||
      (cls === DIGIT) !== (prev === DIGIT)
    ) {
      out.push(text.slice(start, i).toLowerCase());
      start = i;
    }
    prev = cls;
  }
  if (start >= 0) out.push(text.slice(start).toLowerCase());
  return out;
}

function unicodeWords(text: string): string[] {
  const spaced = text
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .replace(/(\p{L})(\p{N})/gu, '$1 $2')
    .replace(/(\p{N})(\p{L})/gu, '$1 $2');
  const out: string[] = [];
  for (const m of spaced.toLowerCase().matchAll(WORD)) out.push(m[0]);
  return out;
}

let lastText: string | undefined;
let lastWords: readonly string[] = [];

/**
 * {@link words} of `text` with its apostrophes removed (`can't` → cant), as every scorer reads a
 * query. The last text's words are kept: the lexical scorer and the featurizer read the same query
 * one after the other. Callers must not modify the list.
 */
export function queryWords(text: string): readonly string[] {
  if (text !== lastText) {
    lastWords = words(text.replace(/['’]/g, ''));
    lastText = text;
  }
  return lastWords;
}

/** Normalise an apostrophe-free lower-case word list: drop stopwords and stem (BM25 terms). */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const w of queryWords(text)) {
    if (STOPWORDS.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** 32-bit FNV-1a: fast, deterministic feature hashing. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A deterministic PRNG for shuffling training data; routing never uses Math.random. */
export const prng = mulberry32;

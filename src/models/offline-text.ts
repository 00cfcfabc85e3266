/** Text handling of the offline model: stopwords, light stemming, terms, quotes, clauses. */

export const STOPWORDS = new Set(
  'a an the and or of to for in on at is are be been do does did i me my mine we our you your it its this that these those with please can could would should will just want need like some any also then there here hi hello thanks thank'.split(
    ' ',
  ),
);

/** A tiny English stemmer, enough to match "refunds"/"refund" and "shipping"/"ship". */
export function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const suffix of ['ing', 'ies', 'ed', 'es', 's', 'ly']) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      const base = word.slice(0, -suffix.length);
      if (suffix === 'ies') return `${base}y`;
      return suffix === 'ing' && /(.)\1$/.test(base) ? base.slice(0, -1) : base;
    }
  }
  return word;
}

/** Lower-cased, stemmed content words. */
export function terms(text: string): string[] {
  return (text.toLowerCase().match(/[a-z][a-z0-9]*/g) ?? []).filter((w) => !STOPWORDS.has(w)).map(stem);
}

export const QUOTED = /"([^"]+)"|“([^”]+)”|'([^']{3,})'/g;
export const quotedStrings = (text: string): string[] =>
  [...text.matchAll(QUOTED)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
export const withoutQuotes = (text: string): string => text.replace(QUOTED, ' ');
export const ANAPHORA =
  /\b(my|mine|her|his|their|its|it|this|that|same|them|they|she|he|the customer|the order)\b/i;

/** Split a request into clauses at sentence ends and at "and"/"then", keeping quoted text whole. */
export function splitClauses(text: string): string[] {
  const quotes: string[] = [];
  const masked = text.replace(QUOTED, (m) => {
    quotes.push(m);
    return `\u{E000}${quotes.length - 1}\u{E001}`;
  });
  const parts = masked
    .split(/(?<=[.!?;])\s+|\s+(?:and then|then|and also|and|also|plus)\s+/i)
    .map((p) => p.replace(/\u{E000}(\d+)\u{E001}/gu, (_m, i: string) => quotes[Number(i)] ?? '').trim())
    .filter((p) => p.length > 0);
  return parts.length ? parts : [text];
}

// ---------------------------------------------------------------------------------------------
// Reading the prompt

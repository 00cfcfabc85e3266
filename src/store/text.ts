/**
 * How every store holds text (one rule for memory, SQLite and PostgreSQL, so a value reads back
 * the same whichever store holds it):
 *
 * - Text columns (ids, summaries, comments, fact values) hold well-formed Unicode: a lone
 *   surrogate (`'\ud800'`), which UTF-8 cannot encode, becomes U+FFFD. SQLite and PostgreSQL
 *   drivers would do that implicitly; the memory store must do it too, and lookups normalize
 *   their argument the same way so a value is found by the string it was stored under.
 * - JSON payloads (event data, approval arguments) are stored as `JSON.stringify` text, which
 *   escapes lone surrogates and NUL: they round-trip exactly, code unit for code unit.
 * - NUL and every other code point round-trip exactly (PostgreSQL escapes NUL, see postgres/text.ts).
 */

/** A text column's value as every store holds it. */
export const storedText = (v: string): string => (v.isWellFormed() ? v : v.toWellFormed());

/** {@link storedText} for a nullable column. */
export const storedOpt = (v: string | null): string | null => (v === null ? null : storedText(v));

/** True when every store holds `v` exactly as given in a text column: no NUL, no lone surrogate. */
export const storesExactly = (v: string): boolean => v.isWellFormed() && !v.includes('\u0000');

/**
 * CSV for files people open in a spreadsheet (RFC 4180, with OWASP's CSV-injection defence): a
 * text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a formula
 * (`=HYPERLINK(…)`), so it is prefixed with `'` and quoted; a cell holding a quote, comma or line
 * break is quoted, its quotes doubled.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell of a database value: numbers are written as numbers (a negative amount stays a number),
 * anything but a string or a number (null) is empty.
 * @example
 * csvCell('=HYPERLINK("http://x","click")'); // '"\'=HYPERLINK(""http://x"",""click"")"'
 */
export function csvCell(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  if (typeof value !== 'string') return '';
  const text = value;
  const formula = FORMULA_START.test(text);
  const s = formula ? `'${text}` : text;
  return formula || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A header line and one line per row (CRLF-free: `\n` line ends), ending in a line break. */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const line = (cells: unknown[]): string => cells.map(csvCell).join(',');
  return [line([...columns]), ...rows.map((r) => line(columns.map((c) => r[c])))].join('\n') + '\n';
}

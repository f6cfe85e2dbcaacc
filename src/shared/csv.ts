/**
 * The one CSV writer for every file the service gives (shipping lists, import reports, code
 * batches). The standard form is RFC 4180 with commas; the Excel form adds a UTF-8 byte-order mark
 * (without it Excel reads UTF-8 as the ANSI code page: "João" becomes "JoÃ£o") and uses semicolons
 * where the reader's locale writes decimals with a comma (pl, pt, be), which is the list separator
 * Excel expects there: with commas it puts a whole row in one cell.
 */

export interface CsvFormat {
  separator: ',' | ';';
  bom: boolean;
  /** CRLF as RFC 4180 says; the code batch files have always ended lines with LF. */
  eol?: '\r\n' | '\n';
}

/** RFC 4180 with commas and no BOM: what API clients have always received. */
export const STANDARD_CSV: CsvFormat = { separator: ',', bom: false };

/** Languages whose decimal separator is a comma, so Excel's list separator is a semicolon. */
const DECIMAL_COMMA = /^(pl|pt|be|ru|uk|de|fr|es|it|nl|cs|sk|hu|ro|bg|hr|sl|sr|lt|lv|et|fi|sv|da|nb|no|tr|el|id)\b/i;

/** The Excel-friendly form for a reader of `locale` (a BCP 47 tag such as `pt-PT`; none = comma). */
export function excelCsv(locale?: string): CsvFormat {
  return { separator: locale && DECIMAL_COMMA.test(locale.trim()) ? ';' : ',', bom: true };
}

/** One CSV field; formula-looking values are prefixed so a spreadsheet does not run them. */
export function csvField(value: unknown): string {
  let s = value == null ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",;\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows as CSV text, CRLF line ends, in the given form. */
export function writeCsv(rows: unknown[][], format: CsvFormat = STANDARD_CSV): string {
  const eol = format.eol ?? '\r\n';
  const body = rows.map((r) => r.map(csvField).join(format.separator)).join(eol) + eol;
  return format.bom ? `\uFEFF${body}` : body;
}

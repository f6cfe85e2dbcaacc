/**
 * Reading voucher CSV files (RFC 4180 quoting; writing is src/shared/csv.ts). Voucher files are one
 * code per line, optionally with a header and more columns: the first column (or the one named
 * `code`) is the code.
 */

/** Splits CSV text into rows of fields, honouring quotes and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',' || c === ';') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

export interface VoucherCsv {
  codes: string[];
  /** Codes repeated inside the file (kept once). */
  duplicatesInFile: number;
  /** 1-based line numbers of rows with no code. */
  emptyLines: number[];
}

export function parseVoucherCsv(text: string): VoucherCsv {
  const rows = parseCsv(text);
  let column = 0;
  if (rows.length && rows[0]!.some((f) => /^\s*(code|kod|código|codigo|код)\s*$/i.test(f))) {
    column = rows[0]!.findIndex((f) => /^\s*(code|kod|código|codigo|код)\s*$/i.test(f));
    rows.shift();
  }
  const seen = new Set<string>();
  const codes: string[] = [];
  const emptyLines: number[] = [];
  let duplicatesInFile = 0;
  rows.forEach((r, i) => {
    const code = (r[column] ?? '').trim();
    if (!code) emptyLines.push(i + 1);
    else if (seen.has(code)) duplicatesInFile++;
    else {
      seen.add(code);
      codes.push(code);
    }
  });
  return { codes, duplicatesInFile, emptyLines };
}

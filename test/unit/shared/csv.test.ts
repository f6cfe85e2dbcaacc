import { describe, expect, it } from 'vitest';
import { excelCsv, STANDARD_CSV, writeCsv } from '../../../src/shared/csv.js';
import { csvFormatOf, wantsCsv } from '../../../src/http/csv-format.js';

const rows = [['name', 'points'], ['João; Ñ', 1.5], ['=SUM(A1)', null]];

describe('the shared CSV writer', () => {
  it('writes the standard form existing clients read: commas, CRLF, no BOM, formulas defused', () => {
    expect(writeCsv(rows)).toBe(`name,points\r\n"João; Ñ",1.5\r\n'=SUM(A1),\r\n`);
    expect(writeCsv([['a'], ['b']], { ...STANDARD_CSV, eol: '\n' })).toBe('a\nb\n');
  });

  it('writes the Excel form: a UTF-8 BOM, and semicolons where the locale writes decimals with a comma', () => {
    for (const locale of ['pl', 'pl-PL', 'pt-PT', 'pt-BR', 'be']) {
      expect(writeCsv(rows, excelCsv(locale))).toBe(`\uFEFFname;points\r\n"João; Ñ";1.5\r\n'=SUM(A1);\r\n`);
    }
    expect(writeCsv(rows, excelCsv('en-GB'))).toBe(`\uFEFFname,points\r\n"João; Ñ",1.5\r\n'=SUM(A1),\r\n`);
    expect(excelCsv()).toEqual({ separator: ',', bom: true });
  });

  it('is chosen by ?format=excel or the Excel media type, the locale by ?locale= or Accept-Language; nothing asked keeps the standard form', () => {
    const req = (query: object, headers: Record<string, string> = {}) => ({ query, headers });
    expect(csvFormatOf(req({}))).toBe(STANDARD_CSV);
    expect(csvFormatOf(req({}, { accept: 'text/csv', 'accept-language': 'pl-PL' }))).toBe(STANDARD_CSV);
    expect(csvFormatOf(req({ format: 'excel', locale: 'pt-PT' }))).toEqual({ separator: ';', bom: true });
    expect(csvFormatOf(req({ format: 'excel' }, { 'accept-language': 'pl-PL,pl;q=0.9,en;q=0.8' }))).toEqual({ separator: ';', bom: true });
    expect(csvFormatOf(req({}, { accept: 'application/vnd.ms-excel', 'accept-language': 'en-US' }))).toEqual({ separator: ',', bom: true });
    expect(csvFormatOf(req({ format: 'csv' }, { accept: 'application/vnd.ms-excel' }))).toBe(STANDARD_CSV);
    expect(wantsCsv(req({}))).toBe(false);
    expect(wantsCsv(req({}, { accept: 'text/csv' }))).toBe(true);
    expect(wantsCsv(req({ format: 'excel' }))).toBe(true);
  });
});

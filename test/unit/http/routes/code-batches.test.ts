import { describe, expect, it } from 'vitest';
import { codesFromCsv } from '../../../../src/http/routes/code-batches.js';

describe('codes from a CSV import', () => {
  it('takes the column headed "code", whichever it is, and skips the header', () => {
    expect(codesFromCsv('code\nABC-123\nDEF-456\n')).toEqual(['ABC-123', 'DEF-456']);
    expect(codesFromCsv('points;Kod\n5;ABC-123\n5;DEF-456')).toEqual(['ABC-123', 'DEF-456']);
    expect(codesFromCsv('\uFEFFcódigo,valid\nABC-123,2027\n')).toEqual(['ABC-123']);
  });

  it('never imports another header as a code: several columns without a "code" header are refused', () => {
    expect(() => codesFromCsv('points,expires\n100,2027-01-01\n')).toThrow(/column headed "code"/);
  });

  it('a file of one column without a header is all codes, as before', () => {
    expect(codesFromCsv('ABC-123\nDEF-456\n')).toEqual(['ABC-123', 'DEF-456']);
  });
});

/**
 * Fiscal data as real receipts and people write it: the Portuguese AT specification's own QR
 * examples and what printers make of them, the Polish KSeF demo host and printed KSeF numbers, and
 * tax ids with separators and country prefixes.
 */
import { describe, expect, it } from 'vitest';
import { parsePtAtQr, readQrText } from '../../../../src/domain/receipts/index.js';
import { extractKsefNumber, readReceiptText } from '../../../../src/domain/receipts/ocr-text.js';
import { isValidBrCnpj, isValidPtNif, isValidTaxId, normalizeTaxId } from '../../../../src/domain/receipts/tax-ids.js';

/** The examples of the AT specification (Especificações Técnicas Código QR, section 5). */
const AT_EXAMPLES = {
  invoice:
    'A:123456789*B:999999990*C:PT*D:FT*E:N*F:20191231*G:FT AB2019/0035*H:CSDF7T5H-0035*I1:PT*I2:12000.00*I3:15000.00*' +
    'I4:900.00*I5:50000.00*I6:6500.00*I7:80000.00*I8:18400.00*J1:PT-AC*J2:10000.00*J3:25000.56*J4:1000.02*J5:75000.00*' +
    'J6:6750.00*J7:100000.00*J8:18000.00*K1:PT-MA*K2:5000.00*K3:12500.00*K4:625.00*K5:25000.00*K6:3000.00*K7:40000.00*' +
    'K8:8800.00*L:100.00*M:25.00*N:64000.02*O:513600.58*P:100.00*Q:kLp0*R:9999*S:TB;PT00000000000000000000000;513500.58',
  simplified:
    'A:123456789*B:999999990*C:PT*D:FS*E:N*F:20190812*G:FS CDVF/12345*H:CDF7T5HD-12345*I1:PT*I7:0.65*I8:0.15*N:0.15*O:0.80*Q:YhGV*R:9999*S:NU;0.80',
  transport: 'A:500000000*B:123456789*C:PT*D:GT*E:N*F:20190720*G:GT G234CB/50987*H:GTVX4Y8B-50987*I1:0*N:0.00*O:0.00*Q:5uIg*R:9999',
  foreignTax:
    'A:123456789*B:4443332215*C:FR*D:FT*E:N*F:20190526*G:ABC BNH/4561*H:DK5ZJ2HN-4561*I1:FR*I7:100.00*I8:20.00*N:20.00*O:120.00*Q:YJRE*R:9999',
  debitNote:
    'A:123456789*B:500000000*C:PT*D:ND*E:N*F:20190216*G:M1F KLG/6145*H: RQD8L6DG-6145*I1:PT-MA*I6:26.50*N:26.50*O:26.50*Q:h1rB*R:9999',
  margin:
    'A:500000000*B:123456789*C:PT*D:FT*E:N*F:20191124*G:NF 19A/789145*H:JL9DS4TT-789145*I1:PT-AC*I7:50.00*I8:9.00*L:1000.00*N:9.00*O:1059.00*Q:d8/K*R:9999',
};

const SIMPLE = 'A:509442013*B:999999990*C:PT*D:FS*E:N*F:20260918*G:FS 2026/88*H:CSDF7T5H-88*I1:PT*I7:10.00*I8:2.30*N:2.30*O:12.30*Q:e1Dk*R:1422';

describe('Portuguese AT QR codes', () => {
  it.each(Object.entries(AT_EXAMPLES))('reads the specification\'s example: %s', (_, text) => {
    const r = parsePtAtQr(text);
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  });

  it('reads the specification\'s totals and the ATCUD behind a leading space', () => {
    const invoice = parsePtAtQr(AT_EXAMPLES.invoice);
    expect(invoice.ok && invoice.document.totalMinor).toBe(51_360_058);
    const note = parsePtAtQr(AT_EXAMPLES.debitNote);
    expect(note.ok && note.document.documentKey).toBe('pt:atcud:RQD8L6DG-6145');
    expect(readQrText(AT_EXAMPLES.foreignTax).kind).toBe('fiscal');
  });

  it('takes a certificate number without leading zeros, amounts without two decimals, a space around a field', () => {
    for (const text of [
      SIMPLE.replace('R:1422', 'R:432'),
      SIMPLE.replace('R:1422', 'R:71'),
      SIMPLE.replace('N:2.30', 'M:0*N:2.30'),
      SIMPLE.replace('*G:FS 2026/88', '*G: FS 2026/88'),
      SIMPLE.replace('*O:12.30', '* O:12.30'),
    ]) {
      const r = parsePtAtQr(text);
      expect(r.ok, `${text}: ${r.ok ? '' : r.reason}`).toBe(true);
      if (r.ok) expect(r.document.totalMinor).toBe(1230);
    }
    const short = parsePtAtQr(SIMPLE.replace('O:12.30', 'O:12.3'));
    expect(short.ok && short.document.totalMinor).toBe(1230);
  });

  it('refuses what the specification forbids: R:0 (unsigned software), a key out of order', () => {
    expect(parsePtAtQr(SIMPLE.replace('R:1422', 'R:0'))).toMatchObject({ ok: false });
    expect(parsePtAtQr(SIMPLE.replace('R:1422', 'R:0000'))).toMatchObject({ ok: false });
    expect(parsePtAtQr(SIMPLE.replace('R:1422', 'R:12345'))).toMatchObject({ ok: false });
    expect(parsePtAtQr(SIMPLE.replace('B:999999990*C:PT', 'C:PT*B:999999990'))).toMatchObject({ ok: false });
  });
});

describe('Polish KSeF', () => {
  const kod = (host: string) => `https://${host}/invoice/1234563218/18-09-2026/0mJ1bgg8lNF2gvz5aLTBrrHU2N8ZiTIYpD3YRzRiJsg`;

  it('reads the demo host as a test document, not as a non-fiscal QR', () => {
    const demo = readQrText(kod('qr-demo.ksef.mf.gov.pl'));
    expect(demo.kind).toBe('fiscal');
    expect(demo.kind === 'fiscal' && demo.document.problems).toContain('test_environment');
    const prod = readQrText(kod('qr.ksef.mf.gov.pl'));
    expect(prod.kind === 'fiscal' && prod.document.problems).not.toContain('test_environment');
  });

  it('takes a printed KSeF number only when its check passes', () => {
    expect(extractKsefNumber('Numer KSeF: 5265877635-20250826-0100001AF629-AF\nSUMA PLN 10,00')).toBe('5265877635-20250826-0100001AF629-AF');
    expect(extractKsefNumber('Numer KSeF: 5265877635-20250826-0100001AF629-AE')).toBeUndefined();
    expect(readReceiptText('FAKTURA\nKSeF 5265877635-20250826-0100001AF629-AF\nDO ZAPŁATY 12,30', 'pl').ksefNumber).toBe(
      '5265877635-20250826-0100001AF629-AF',
    );
  });
});

describe('tax ids as people write them', () => {
  it('normalizes separators and country prefixes before the check', () => {
    expect(isValidPtNif('PT-505 856 468')).toBe(true);
    expect(isValidPtNif('PT 500135.495')).toBe(true);
    expect(normalizeTaxId('PT', 'PT-505 856 468')).toBe('505856468');
    expect(isValidBrCnpj('11.222.333/0001–81')).toBe(true);
    expect(isValidTaxId('PL', 'PL 526-025-02-74')).toBe(true);
    expect(isValidPtNif('PT-505 856 469')).toBe(false);
  });
});

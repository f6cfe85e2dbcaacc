import { describe, expect, it } from 'vitest';
import {
  type ReviewAction,
  bestReading,
  decodeReviewAction,
  encodeReviewAction,
  parseBrNfce,
  parseKsefQr,
  parsePtAtQr,
  readQrText,
  REJECT_REASONS,
  type FiscalDocument,
} from '../../../../src/domain/receipts/index.js';

const doc = (r: { ok: boolean; document?: FiscalDocument; reason?: string }): FiscalDocument => {
  if (!r.ok) throw new Error(`expected a document, got: ${r.reason}`);
  return r.document!;
};

// From the AT specification (quoted in joaomfrebelo/at_qrcode tests) and notes/receipts.md.
const AT_EXAMPLE_2 =
  'A:123456789*B:999999990*C:PT*D:FS*E:N*F:20190812*G:FS CDVF/12345*H:CDF7T5HD-12345*I1:PT*I7:0.65*I8:0.15*N:0.15*O:0.80*Q:YhGV*R:9999*S:NU;0.80';
const AT_EXAMPLE_GT =
  'A:500000000*B:123456789*C:PT*D:GT*E:N*F:20190720*G:GT G234CB/50987*H:GTVX4Y8B-50987*I1:0*N:0.00*O:0.00*Q:5uIg*R:9999';
const PT_CONSTRUCTED =
  'A:509442013*B:999999990*C:PT*D:FS*E:N*F:20260918*G:FS 2026/88*H:CSDF7T5H-88*I1:PT*I7:10.00*I8:2.30*N:2.30*O:12.30*Q:e1Dk*R:1422';
const PT_ALL_REGIONS =
  'A:500000000*B:123456789*C:PT*D:FT*E:N*F:20191231*G:FT AB2019/0035*H:CSDF7T5H-0035*I1:PT*I2:12000.00*I3:15000.00*I4:900.00*I5:50900.00*I6:6500.00*I7:80000.00*I8:18400.00*J1:PT-AC*J2:10000.00*J3:25000.56*J4:1000.02*J5:75000.00*J6:6750.00*J7:100000.00*J8:18000.00*K1:PT-MA*K2:5000.00*K3:12500.00*K4:625.00*K5:25000.00*K6:3000.00*K7:40000.00*K8:8800.00*L:100.00*M:25.00*N:64000.02*O:513600.58*P:100.00*Q:kLp0*R:9999*S:TB;PT00000000000000000000000;513500.58';

describe('Portugal AT QR', () => {
  it('reads every field of the spec example, splitting pairs at the first colon only', () => {
    const d = doc(parsePtAtQr(AT_EXAMPLE_2));
    expect(d).toMatchObject({
      format: 'pt_at',
      sellerTaxId: '123456789',
      sellerTaxIdValid: true,
      issuedOn: '2019-08-12',
      totalMinor: 80,
      currency: 'EUR',
      documentKey: 'pt:atcud:CDF7T5HD-12345',
      problems: [],
    });
    expect(d.buyerTaxId).toBeUndefined();
    expect(d.fields.G).toBe('FS CDVF/12345');
    expect(d.fields.S).toBe('NU;0.80');
  });

  it('reads the all-regions example with stamp duty, withholding and S', () => {
    const d = doc(parsePtAtQr(PT_ALL_REGIONS));
    expect(d.totalMinor).toBe(51_360_058);
    expect(d.fields.K1).toBe('PT-MA');
    expect(d.fields.P).toBe('100.00');
  });

  it('flags a transport guide as a document type that does not prove a purchase', () => {
    const d = doc(parsePtAtQr(AT_EXAMPLE_GT));
    expect(d.problems).toContain('document_type_not_accepted');
    expect(d.buyerTaxId).toBe('123456789');
  });

  it('flags an annulled document, a credit note and a wrong issuer NIF', () => {
    expect(doc(parsePtAtQr(PT_CONSTRUCTED.replace('*E:N*', '*E:A*'))).problems).toContain('document_status_not_accepted');
    expect(doc(parsePtAtQr(PT_CONSTRUCTED.replace('*D:FS*', '*D:NC*'))).problems).toContain('document_type_not_accepted');
    const bad = doc(parsePtAtQr(PT_CONSTRUCTED.replace('A:509442013', 'A:509442014')));
    expect(bad.sellerTaxIdValid).toBe(false);
    expect(bad.problems).toContain('seller_tax_id_invalid');
  });

  it('falls back to issuer + type + id when an old document carries H:0', () => {
    const d = doc(parsePtAtQr(PT_CONSTRUCTED.replace('H:CSDF7T5H-88', 'H:0')));
    expect(d.documentKey).toBe('pt:doc:509442013|FS|FS 2026/88');
  });

  it.each([
    ['keys out of order', PT_CONSTRUCTED.replace('C:PT*D:FS', 'D:FS*C:PT')],
    ['a missing mandatory key', PT_CONSTRUCTED.replace('*Q:e1Dk', '')],
    ['a key after R other than S', `${PT_CONSTRUCTED}*Z:1`],
    ['an impossible date', PT_CONSTRUCTED.replace('F:20260918', 'F:20260231')],
    ['an amount with a comma', PT_CONSTRUCTED.replace('O:12.30', 'O:12,30')],
    ['a malformed ATCUD', PT_CONSTRUCTED.replace('H:CSDF7T5H-88', 'H:ABC-88')],
  ])('refuses %s', (_what, text) => {
    expect(parsePtAtQr(text).ok).toBe(false);
  });
});

describe('Brazil NFC-e QR', () => {
  const KEY = '35260911222333000181650010000012341123456798';
  const OFFLINE_KEY = '35260911222333000181650010000012359876543216';

  it('reads the v2 online form: key, month only, no total', () => {
    const d = doc(parseBrNfce(`https://www.nfce.fazenda.sp.gov.br/qrcode?p=${KEY}|2|1|1|${'a'.repeat(40)}`));
    expect(d).toMatchObject({ format: 'br_nfce', documentKey: `br:${KEY}`, sellerTaxId: '11222333000181', sellerTaxIdValid: true, issuedMonth: '2026-09', currency: 'BRL' });
    expect(d.totalMinor).toBeUndefined();
    expect(d.issuedOn).toBeUndefined();
  });

  it('reads the v2 offline form with day and total, also URL-encoded', () => {
    const p = encodeURIComponent(`${OFFLINE_KEY}|2|1|18|45.90|${'6a'.repeat(28)}|1|${'b'.repeat(40)}`);
    const d = doc(parseBrNfce(`http://nfce.sefaz.pe.gov.br/nfce/consulta?p=${p}`));
    expect(d.issuedOn).toBe('2026-09-18');
    expect(d.totalMinor).toBe(4590);
  });

  it('reads v3 online and v1 legacy', () => {
    expect(doc(parseBrNfce(`https://sat.sef.sc.gov.br/nfce/consulta?p=${KEY}|3|1`)).documentKey).toBe(`br:${KEY}`);
    const dh = Buffer.from('2026-09-18T10:15:00-03:00').toString('hex');
    const v1 = doc(parseBrNfce(`https://www.sefaz.rs.gov.br/NFCE/NFCE-COM.aspx?chNFe=${KEY}&nVersao=100&tpAmb=1&dhEmi=${dh}&vNF=120.00&digVal=x&cIdToken=000001&cHashQRCode=${'c'.repeat(40)}`));
    expect(v1).toMatchObject({ issuedOn: '2026-09-18', totalMinor: 12000 });
  });

  it('accepts an alphanumeric CNPJ in the key', () => {
    const d = doc(parseBrNfce(`https://x.example/qr?p=35260912ABC34501DE35650010000012341123456799|2|1|1|${'a'.repeat(40)}`));
    expect(d.sellerTaxId).toBe('12ABC34501DE35');
    expect(d.sellerTaxIdValid).toBe(true);
  });

  it('flags the test environment', () => {
    expect(doc(parseBrNfce(`https://x.example/qr?p=${KEY}|2|2|1|${'a'.repeat(40)}`)).problems).toContain('test_environment');
  });

  it('refuses a wrong check digit and a short key', () => {
    expect(parseBrNfce(`https://x.example/qr?p=${KEY.slice(0, 43)}7|2|1|1|${'a'.repeat(40)}`)).toMatchObject({ ok: false, reason: 'access key check digit' });
    expect(parseBrNfce(`https://x.example/qr?p=${KEY.slice(0, 40)}|2|1|1|x`).ok).toBe(false);
  });
});

describe('Poland KSeF KOD I', () => {
  const URL_I = 'https://qr.ksef.mf.gov.pl/invoice/1234563218/18-09-2026/0mJ1bgg8lNF2gvz5aLTBrrHU2N8ZiTIYpD3YRzRiJsg';

  it('reads NIP, date and hash', () => {
    const d = doc(parseKsefQr(URL_I));
    expect(d).toMatchObject({
      format: 'pl_ksef',
      sellerTaxId: '1234563218',
      sellerTaxIdValid: true,
      issuedOn: '2026-09-18',
      currency: 'PLN',
      documentKey: 'pl:ksef:1234563218:0mJ1bgg8lNF2gvz5aLTBrrHU2N8ZiTIYpD3YRzRiJsg',
      problems: [],
    });
  });

  it('accepts the 2025 client-app path and flags the test host and a wrong NIP', () => {
    expect(parseKsefQr(URL_I.replace('/invoice/', '/client-app/invoice/')).ok).toBe(true);
    expect(doc(parseKsefQr(URL_I.replace('qr.ksef', 'qr-test.ksef'))).problems).toContain('test_environment');
    expect(doc(parseKsefQr(URL_I.replace('1234563218', '1234563219'))).problems).toContain('seller_tax_id_invalid');
  });

  it('refuses a certificate code (KOD II), a bad date and a short hash', () => {
    expect(parseKsefQr('https://qr.ksef.mf.gov.pl/certificate/Nip/1234563218/1234563218/01F2/abc/def').ok).toBe(false);
    expect(parseKsefQr(URL_I.replace('18-09-2026', '31-02-2026')).ok).toBe(false);
    expect(parseKsefQr(URL_I.slice(0, -1)).ok).toBe(false);
  });
});

describe('readQrText', () => {
  it('routes each format and keeps anything else raw', () => {
    expect(readQrText(PT_CONSTRUCTED)).toMatchObject({ kind: 'fiscal', document: { format: 'pt_at' } });
    expect(readQrText('https://qr.ksef.mf.gov.pl/invoice/1234563218/18-09-2026/0mJ1bgg8lNF2gvz5aLTBrrHU2N8ZiTIYpD3YRzRiJsg')).toMatchObject({ kind: 'fiscal' });
    expect(readQrText('https://shop.example/promo')).toEqual({ kind: 'other', text: 'https://shop.example/promo' });
    expect(readQrText(PT_CONSTRUCTED.replace('*Q:e1Dk', ''))).toMatchObject({ kind: 'invalid', format: 'pt_at' });
  });

  it('prefers the fiscal code when a photo holds a shop link too', () => {
    expect(bestReading(['https://shop.example/', PT_CONSTRUCTED])).toMatchObject({ kind: 'fiscal' });
    expect(bestReading([])).toBeNull();
  });
});

describe('review buttons', () => {
  const id = '0b9c4a52-8a43-4c41-9d7e-2a0d9d2f6f11';
  it('round-trips every action within Telegram’s 64-byte limit', () => {
    const actions: ReviewAction[] = [
      { action: 'approve', receiptId: id },
      { action: 'reasons', receiptId: id },
      { action: 'points', receiptId: id },
      ...REJECT_REASONS.map((reason) => ({ action: 'reject' as const, receiptId: id, reason })),
    ];
    for (const a of actions) {
      const value = encodeReviewAction(a);
      expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
      expect(decodeReviewAction(value)).toEqual(a);
    }
    expect(decodeReviewAction(`rcpt:x:${id}:99`)).toBeNull();
    expect(decodeReviewAction('rcpt:a:not-a-uuid')).toBeNull();
  });
});

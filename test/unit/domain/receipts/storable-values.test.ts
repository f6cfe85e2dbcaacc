import { describe, expect, it } from 'vitest';
import {
  computePoints,
  evaluateReceipt,
  MAX_RECEIPT_POINTS,
  parseBrNfce,
  parseKsefQr,
  parsePtAtQr,
  readQrText,
  ReceiptRules,
  StoredReceiptRules,
  type EvaluateInput,
} from '../../../../src/domain/receipts/index.js';

const PT = 'A:509442013*B:999999990*C:PT*D:FS*E:N*F:20260918*G:FS 2026/88*H:CSDF7T5H-88*I1:PT*I7:10.00*I8:2.30*N:2.30*O:12.30*Q:e1Dk*R:1422';
const KEY = '35260911222333000181650010000012341123456780';
const brV1 = (dhEmi: string) =>
  `https://www.sefaz.rs.gov.br/NFCE/NFCE-COM.aspx?chNFe=${KEY}&nVersao=100&tpAmb=1&dhEmi=${Buffer.from(dhEmi).toString('hex')}&vNF=120.00&digVal=x&cIdToken=000001&cHashQRCode=${'c'.repeat(40)}`;

describe('dates a database can store', () => {
  it('refuses days that do not exist or years nobody shops in', () => {
    expect(parseBrNfce(brV1('2026-02-31T10:15:00-03:00'))).toEqual({ ok: false, reason: 'dhEmi is not a date' });
    expect(parseBrNfce(brV1('0000-01-01T10:15:00-03:00')).ok).toBe(false);
    expect(parseBrNfce(brV1('2026-09-18T10:15:00-03:00'))).toMatchObject({ ok: true, document: { issuedOn: '2026-09-18' } });
    expect(parsePtAtQr(PT.replace('F:20260918', 'F:00000101'))).toEqual({ ok: false, reason: 'F is not a date' });
    expect(parsePtAtQr(PT.replace('F:20260918', 'F:20260230')).ok).toBe(false);
    const ksef = (d: string) => `https://qr.ksef.mf.gov.pl/invoice/1234563218/${d}/0mJ1bgg8lNF2gvz5aLTBrrHU2N8ZiTIYpD3YRzRiJsg`;
    expect(parseKsefQr(ksef('01-01-0000')).ok).toBe(false);
    expect(parseKsefQr(ksef('18-09-2026')).ok).toBe(true);
  });
});

describe('auto-approval needs a bound on the points', () => {
  it('refuses autoApprove with points per unit and no maxPointsPerReceipt; fixed points are their own bound', () => {
    const unbounded = ReceiptRules.safeParse({ autoApprove: true, pointsPerUnit: 1, allowedSellers: ['509442013'] });
    expect(unbounded.success).toBe(false);
    expect(unbounded.error!.issues[0]!.path).toEqual(['maxPointsPerReceipt']);
    expect(ReceiptRules.safeParse({ autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 200 }).success).toBe(true);
    expect(ReceiptRules.safeParse({ autoApprove: true, fixedPoints: 50 }).success).toBe(true);
    expect(ReceiptRules.safeParse({ autoApprove: false, pointsPerUnit: 1 }).success).toBe(true);
  });

  it('refuses absurd numbers in the rules', () => {
    expect(ReceiptRules.safeParse({ fixedPoints: 1e12 }).success).toBe(false);
    expect(ReceiptRules.safeParse({ maxPointsPerReceipt: 2 ** 40 }).success).toBe(false);
    expect(ReceiptRules.safeParse({ pointsPerUnit: 1e9 }).success).toBe(false);
  });

  it('rules stored before the bound still load, but never pay a receipt without a human', () => {
    const legacy = StoredReceiptRules.parse({ autoApprove: true, pointsPerUnit: 1 });
    const input: EvaluateInput = {
      reading: readQrText(PT),
      rules: legacy,
      campaignWindow: { from: '2026-09-01', to: '2026-09-30' },
      duplicates: { image: false, document: false, similar: false },
      receiptsThisWeek: 0,
      today: '2026-09-20',
    };
    expect(evaluateReceipt(input)).toMatchObject({ flags: [], computedPoints: 12, autoApprove: false });
    expect(evaluateReceipt({ ...input, rules: { ...legacy, maxPointsPerReceipt: 100 } }).autoApprove).toBe(true);
  });
});

describe('points a column can hold', () => {
  it('clamps what the rules compute to the integer range', () => {
    const rules = ReceiptRules.parse({ pointsPerUnit: 10_000 });
    expect(computePoints(rules, 99_999_999)).toBe(MAX_RECEIPT_POINTS);
    expect(computePoints(rules, 1_000)).toBe(100_000);
  });
});

describe('the rejection notice', () => {
  it('carries the moderator’s note after the reason', async () => {
    const { createI18n } = await import('../../../../src/i18n/index.js');
    const { rejectedNotice } = await import('../../../../src/services/receipts/index.js');
    const t = createI18n({ defaultLocale: 'pl' }).t('pl');
    expect(rejectedNotice(t, { reason: 'shop_not_eligible', note: 'Tylko sklepy sieci X.' }).text).toBe(
      '❌ Niestety nie możemy zaliczyć Twojego paragonu. Możesz wysłać zdjęcie innego paragonu albo napisać do organizatora programu.\nPowód: sklep nie bierze udziału w akcji\nKomentarz: Tylko sklepy sieci X.',
    );
    expect(rejectedNotice(t, { reason: null, note: 'Zdjęcie ekranu.' }).text).toBe('❌ Niestety nie możemy zaliczyć Twojego paragonu. Możesz wysłać zdjęcie innego paragonu albo napisać do organizatora programu.\nPowód: Zdjęcie ekranu.');
  });
});

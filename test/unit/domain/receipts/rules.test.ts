import { describe, expect, it } from 'vitest';
import {
  computePoints,
  evaluateReceipt,
  rawQrIsDistinctive,
  readQrText,
  ReceiptRules,
  weekStart,
  type EvaluateInput,
} from '../../../../src/domain/receipts/index.js';

const PT = 'A:509442013*B:999999990*C:PT*D:FS*E:N*F:20260918*G:FS 2026/88*H:CSDF7T5H-88*I1:PT*I7:10.00*I8:2.30*N:2.30*O:12.30*Q:e1Dk*R:1422';
const BR_ONLINE = `https://x.example/qr?p=35260911222333000181650010000012341123456798|2|1|1|${'a'.repeat(40)}`;

const rules = (r: Partial<ReceiptRules> = {}) => ReceiptRules.parse({ autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 1000, ...r });
const input = (over: Partial<EvaluateInput> = {}): EvaluateInput => ({
  reading: readQrText(PT),
  rules: rules(),
  campaignWindow: { from: '2026-09-01', to: '2026-09-30' },
  duplicates: { image: false, document: false, similar: false },
  receiptsThisWeek: 0,
  today: '2026-09-20',
  ...over,
});

describe('evaluateReceipt', () => {
  it('auto-approves a clean fiscal receipt inside the rules, with points from the total', () => {
    const e = evaluateReceipt(input());
    expect(e).toMatchObject({ flags: [], computedPoints: 12, autoApprove: true });
    expect(e.confidence).toBeGreaterThan(0.9);
  });

  it('never auto-approves when the campaign does not allow it', () => {
    expect(evaluateReceipt(input({ rules: rules({ autoApprove: false }) })).autoApprove).toBe(false);
  });

  it.each([
    ['duplicate_image', { duplicates: { image: true, document: false, similar: false } }],
    ['duplicate_document', { duplicates: { image: false, document: true, similar: false } }],
    ['date_outside_window', { campaignWindow: { from: '2026-10-01', to: '2026-10-31' } }],
    ['date_in_future', { today: '2026-09-17' }],
    ['total_below_minimum', { rules: rules({ minTotal: 20 }) }],
    ['seller_not_allowed', { rules: rules({ allowedSellers: ['100000002'] }) }],
    ['weekly_limit_reached', { rules: rules({ perWeekLimit: 2 }), receiptsThisWeek: 2 }],
    ['tax_id_invalid', { reading: readQrText(PT.replace('A:509442013', 'A:509442014')) }],
    ['document_not_accepted', { reading: readQrText(PT.replace('*D:FS*', '*D:NC*')) }],
    ['no_qr', { reading: null }],
    ['unrecognized_qr', { reading: readQrText('https://shop.example/') }],
    ['invalid_qr', { reading: readQrText(PT.replace('*Q:e1Dk', '')) }],
    ['no_campaign', { rules: null }],
  ] as const)('flags %s and sends it to a moderator', (flag, over) => {
    const e = evaluateReceipt(input(over as Partial<EvaluateInput>));
    expect(e.flags).toContain(flag);
    expect(e.autoApprove).toBe(false);
  });

  it('shows a look-alike photo to the moderator but still auto-approves a unique valid document', () => {
    const e = evaluateReceipt(input({ duplicates: { image: false, document: false, similar: true } }));
    expect(e.flags).toEqual(['similar_image']);
    expect(e.autoApprove).toBe(true);
    // Without a fiscal document the hint counts like any other flag.
    expect(evaluateReceipt(input({ reading: null, duplicates: { image: false, document: false, similar: true } })).flags).toContain('similar_image');
  });

  it('passes a seller on the allowed list however the manager typed it', () => {
    expect(evaluateReceipt(input({ rules: rules({ allowedSellers: ['PT 509 442 013'] }) })).flags).toEqual([]);
  });

  it('accepts exactly the minimum and the first and last day of the window', () => {
    expect(evaluateReceipt(input({ rules: rules({ minTotal: 12.3 }) })).flags).toEqual([]);
    expect(evaluateReceipt(input({ campaignWindow: { from: '2026-09-18', to: '2026-09-18' } })).flags).toEqual([]);
    expect(evaluateReceipt(input({ rules: rules({ purchaseFrom: '2026-09-19' }) })).flags).toContain('date_outside_window');
  });

  it('handles Brazil’s online QR: month only, no total', () => {
    const br = readQrText(BR_ONLINE);
    // The whole month lies inside the window: the date is fine; points per unit need a total.
    const inside = evaluateReceipt(input({ reading: br, campaignWindow: { from: '2026-09-01', to: '2026-09-30' } }));
    expect(inside.flags).toEqual(['total_unknown']);
    expect(inside.computedPoints).toBeNull();
    expect(inside.autoApprove).toBe(false);
    // Fixed points need no total; a month straddling the window edge needs a human.
    expect(evaluateReceipt(input({ reading: br, rules: rules({ fixedPoints: 50 }) })).autoApprove).toBe(true);
    expect(evaluateReceipt(input({ reading: br, campaignWindow: { from: '2026-09-15', to: '2026-10-15' } })).flags).toContain('date_unknown');
    expect(evaluateReceipt(input({ reading: br, campaignWindow: { from: '2026-10-01', to: '2026-10-15' } })).flags).toContain('date_outside_window');
  });

  it('lowers the confidence with every serious flag', () => {
    const clean = evaluateReceipt(input()).confidence;
    const dup = evaluateReceipt(input({ duplicates: { image: true, document: true, similar: false } })).confidence;
    expect(dup).toBeLessThan(clean);
    expect(evaluateReceipt(input({ reading: null })).confidence).toBeLessThan(0.5);
  });
});

describe('computePoints', () => {
  it('floors points per unit on minor units, caps, and prefers fixed points', () => {
    expect(computePoints(rules({ pointsPerUnit: 0.1 }), 3000)).toBe(3);
    expect(computePoints(rules({ pointsPerUnit: 2 }), 1999)).toBe(39);
    expect(computePoints(rules({ pointsPerUnit: 2, maxPointsPerReceipt: 30 }), 1999)).toBe(30);
    expect(computePoints(rules({ fixedPoints: 25 }), undefined)).toBe(25);
    expect(computePoints(ReceiptRules.parse({}), 1000)).toBeNull();
  });
});

describe('helpers', () => {
  it('weekStart gives the Monday', () => {
    expect(weekStart('2026-09-20')).toBe('2026-09-14'); // Sunday
    expect(weekStart('2026-09-14')).toBe('2026-09-14');
  });
  it('uses only receipt-specific raw QR texts as duplicate keys', () => {
    expect(rawQrIsDistinctive('https://shop.example/')).toBe(false);
    expect(rawQrIsDistinctive('https://check.example/?t=20260918T1015&s=12.30&fn=99')).toBe(true);
    expect(rawQrIsDistinctive('short')).toBe(false);
  });
  it('refuses rules that make no sense', () => {
    expect(ReceiptRules.safeParse({ pointsPerUnit: -1 }).success).toBe(false);
    expect(ReceiptRules.safeParse({ purchaseFrom: '2026-13-01' }).success).toBe(false);
  });
});

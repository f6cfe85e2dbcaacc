import { describe, expect, it } from 'vitest';
import { isValidGtin, normalizeInvoice, parseQuantity, parseSellOutCsv, targetProgress } from '../../../../src/domain/sales/sales.js';

describe('sales rules', () => {
  it('progress reads "34 of 50 — 16 to go" and stops at zero', () => {
    expect(targetProgress({ id: 't', campaignId: 'c', metric: 'units', goal: 50, bonusPoints: 5, done: 34 })).toMatchObject({
      remaining: 16,
      reached: false,
    });
    expect(targetProgress({ id: 't', campaignId: 'c', metric: 'units', goal: 50, bonusPoints: 5, done: 51 })).toMatchObject({
      remaining: 0,
      reached: true,
    });
  });

  it('compares invoice numbers without case and separators', () => {
    expect(normalizeInvoice('FV 12/2026')).toBe(normalizeInvoice('fv12-2026'));
    expect(normalizeInvoice('FV 12/2026')).not.toBe(normalizeInvoice('FV 13/2026'));
  });

  it('reads quantities people type', () => {
    expect(parseQuantity('3')).toBe(3);
    expect(parseQuantity(' 12 szt.')).toBe(12);
    expect(parseQuantity('0')).toBeUndefined();
    expect(parseQuantity('three')).toBeUndefined();
    expect(parseQuantity('10001')).toBeUndefined();
  });

  it('checks EAN/GTIN check digits', () => {
    expect(isValidGtin('5901234123457')).toBe(true);
    expect(isValidGtin('5901234123458')).toBe(false);
    expect(isValidGtin('96385074')).toBe(true);
    expect(isValidGtin('036000291452')).toBe(true);
  });

  it('parses distributor sell-out CSV with either separator and reports bad lines', () => {
    const { rows, bad } = parseSellOutCsv('Invoice;Status;SKU;Quantity\n"FV;1";confirmed;A;2\nFV2;rejected;B;x\n;ok\nFV3;maybe\n');
    expect(rows).toEqual([
      { invoice: 'FV;1', verdict: 'confirm', sku: 'A', quantity: 2 },
      { invoice: 'FV2', verdict: 'reject', sku: 'B', quantity: undefined },
    ]);
    expect(bad.map((b) => b.line)).toEqual([4, 5]);
    expect(parseSellOutCsv('foo,bar\n1,2').bad[0]!.reason).toMatch(/invoice and status/);
  });
});

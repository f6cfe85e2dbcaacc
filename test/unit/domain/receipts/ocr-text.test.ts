import { describe, expect, it } from 'vitest';
import { evaluateReceipt, extractDate, extractTaxId, extractTotal, readReceiptText, ReceiptRules, readQrText } from '../../../../src/domain/receipts/index.js';

// OCR output as tesseract gives it: wrapped columns, stray spaces, decimal commas, misreads.
const PL = `SKLEP BUDOWLANY "CEGŁA" SP. Z 0.0.
ul. Długa 5, 00-001 Warszawa
NIP 526-025-02-74
2026-09-18 14:32 nr wydr. 012345
PARAGON FISKALNY
Klej do płytek 25kg 1 x 39,90 39,90A
SPRZEDAŻ OPODATK. A 47,85
PTU A 23,00 % 8,95
SUMA PTU 8,95
SUMA PLN 47,85
Karta płatnicza 47,85`;

const PT = `Café Central, Lda
Rua Augusta 10, 1100-053 Lisboa
NIF: 509 442 013
Fatura Simplificada FS 2026/88
Data: 18/09/2026 12:01
2 x Pastel de nata 1,30 2,60
1 x Galão 1,90
Total IVA 0,86
TOTAL A PAGAR 4,50 €
NIF adquirente: 245678913
ATCUD: CSDF7T5H-88`;

const BR = `SUPERMERCADO BOM PRECO LTDA
CNPJ: 11.222.333/0001-81
Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica
Qtd. total de itens 3
Valor total R$ 45,90
Valor a pagar R$ 45,90
Dinheiro 50,00
Troco R$ 4,10
Emissão: 18/09/2026 10:22:31`;

// The Belarusian model on a Russian receipt: ВУМ for BYN, 000 for ООО.
const BY = `000 "ЕВРОТОРГ"
УНП 190000005
г. Минск, ул. Кальварийская 24
КАССОВЫЙ ЧЕК № 4512
Молоко 3,2% 1 x 2,45 2,45
Хлеб 1 x 1,89 1,89
ИТОГО: 4,34 ВУМ
НАЛИЧНЫМИ 5,00
СДАЧА 0,66
18.09.2026 19:05`;

describe('reading printed receipts (OCR text)', () => {
  it('Poland: SUMA PLN, ISO date, hyphenated NIP; SUMA PTU is not the total', () => {
    expect(readReceiptText(PL, 'pl')).toEqual({
      source: 'ocr', country: 'PL', currency: 'PLN', totalMinor: 4785, issuedOn: '2026-09-18', sellerTaxId: '5260250274',
    });
  });

  it('Portugal: TOTAL A PAGAR over Total IVA, DD/MM/YYYY, the seller NIF before the buyer one', () => {
    expect(readReceiptText(PT, 'pt')).toEqual({
      source: 'ocr', country: 'PT', currency: 'EUR', totalMinor: 450, issuedOn: '2026-09-18', sellerTaxId: '509442013',
    });
  });

  it('Brazil: Valor a pagar R$, formatted CNPJ, change (troco) ignored', () => {
    expect(readReceiptText(BR, 'pt')).toEqual({
      source: 'ocr', country: 'BR', currency: 'BRL', totalMinor: 4590, issuedOn: '2026-09-18', sellerTaxId: '11222333000181',
    });
  });

  it('Belarus: ИТОГО with ВУМ for BYN, УНП, and 000 (ООО) not taken for a number', () => {
    expect(readReceiptText(BY, 'be')).toEqual({
      source: 'ocr', country: 'BY', currency: 'BYN', totalMinor: 434, issuedOn: '2026-09-18', sellerTaxId: '190000005',
    });
  });

  it('a misread tax id fails its check digit and is kept apart, never as the seller', () => {
    const facts = readReceiptText(PL.replace('526-025-02-74', '526-025-02-75'), 'pl');
    expect(facts.sellerTaxId).toBeUndefined();
    expect(facts.unverifiedTaxId).toBe('5260250275');
    expect(extractTaxId('УНП 69000001Х', 'be')).toBeUndefined();
  });

  it('totals: thousands separators, amount on the next line, O misread as 0', () => {
    expect(extractTotal('SUMA PLN 1 234,56', 'pl')).toBe(123456);
    expect(extractTotal('TOTAL A PAGAR\n1.234,50 EUR', 'pt')).toBe(123450);
    expect(extractTotal('ДА АПЛАТЫ 1O,5O', 'be')).toBe(1050);
    expect(extractTotal('Razem: 12.30', 'pl')).toBe(1230);
    expect(extractTotal('nothing to pay here', 'pl')).toBeUndefined();
  });

  it('dates: all four layouts, impossible dates skipped', () => {
    expect(extractDate('2026-09-18')).toBe('2026-09-18');
    expect(extractDate('18-09-2026')).toBe('2026-09-18');
    expect(extractDate('18.09.2026')).toBe('2026-09-18');
    expect(extractDate('18/09/2026')).toBe('2026-09-18');
    expect(extractDate('31.02.2026 then 01.03.2026')).toBe('2026-03-01');
    expect(extractDate('tel. 22 123-45-67')).toBeUndefined();
  });
});

describe('OCR readings in the receipt rules', () => {
  const rules = ReceiptRules.parse({ pointsPerUnit: 1, maxPointsPerReceipt: 1000, minTotal: 20, autoApprove: true, allowedSellers: ['526-025-02-74'] });
  const base = {
    reading: null,
    rules,
    campaignWindow: { from: '2026-09-01', to: '2026-09-30' },
    duplicates: { image: false, document: false, similar: false },
    receiptsThisWeek: 0,
    today: '2026-09-20',
  };

  it('feeds the same rules as a QR, with a lower confidence, and never auto-approves', () => {
    const withOcr = evaluateReceipt({ ...base, ocr: readReceiptText(PL, 'pl') });
    expect(withOcr.flags).toEqual(['no_qr']);
    expect(withOcr.computedPoints).toBe(47);
    expect(withOcr.autoApprove).toBe(false);
    expect(withOcr.confidence).toBeLessThan(0.95);
    expect(withOcr.confidence).toBeGreaterThan(evaluateReceipt(base).confidence);
    expect(evaluateReceipt(base).flags).toEqual(['no_qr', 'date_unknown', 'total_unknown', 'seller_not_allowed']);
  });

  it('flags what OCR read against the rules: old date, low total, other shop', () => {
    const text = PL.replace('2026-09-18', '2026-08-18').replaceAll('47,85', '12,00').replace('526-025-02-74', '777-000-00-05');
    const e = evaluateReceipt({ ...base, ocr: readReceiptText(text, 'pl') });
    expect(e.flags).toEqual(['no_qr', 'date_outside_window', 'total_below_minimum', 'seller_not_allowed']);
  });

  it('a Brazilian online QR without a total gets it from OCR, but then waits for a moderator', () => {
    const qr = readQrText('https://www.nfce.fazenda.sp.gov.br/qrcode?p=35260911222333000181650010000012341123456780|2|1|1|' + 'a'.repeat(40));
    expect(qr.kind).toBe('fiscal');
    const brRules = ReceiptRules.parse({ pointsPerUnit: 1, maxPointsPerReceipt: 1000, autoApprove: true });
    const e = evaluateReceipt({ ...base, rules: brRules, reading: qr, ocr: readReceiptText(BR, 'pt') });
    expect(e.computedPoints).toBe(45);
    expect(e.flags).toEqual([]);
    expect(e.autoApprove).toBe(false);
    // Fixed points need no total: the QR alone approves, the OCR reading does not hold it back.
    const fixed = evaluateReceipt({ ...base, rules: ReceiptRules.parse({ fixedPoints: 10, autoApprove: true }), reading: qr, ocr: readReceiptText(BR, 'pt') });
    expect(fixed.autoApprove).toBe(true);
  });
});

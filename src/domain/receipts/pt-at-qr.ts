import type { DocumentProblem, FiscalDocument } from './types.js';
import { isValidPtNif } from './tax-ids.js';
import { calendarDay } from './dates.js';

/**
 * Portugal's AT invoice QR (Portaria 195/2020): `KEY:VALUE` pairs joined by `*` in a fixed order.
 * Values may contain `:` and `/` (document id, signature characters), so a pair splits at its
 * first colon only.
 */

const REGION_KEYS = (p: 'I' | 'J' | 'K') => [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${p}${n}`);
/** The order the specification fixes; `S` is optional and always last. */
export const PT_KEY_ORDER = [
  'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H',
  ...REGION_KEYS('I'), ...REGION_KEYS('J'), ...REGION_KEYS('K'),
  'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S',
];
const MANDATORY = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I1', 'N', 'O', 'Q', 'R'] as const;
/** The specification writes amounts with two decimals; printers also write `0` or `12.3`. */
const AMOUNT = /^\d{1,13}(\.\d{1,2})?$/;

/** Document types a shop gives a consumer for a purchase: invoice, simplified invoice, invoice-receipt, sale. */
export const PT_ACCEPTED_TYPES = new Set(['FT', 'FS', 'FR', 'VD', 'TV']);

export type PtParse = { ok: true; document: FiscalDocument } | { ok: false; reason: string };

/** Cheap test used to route a QR text to this parser. */
export const looksLikePtAt = (text: string): boolean => /^A:\s*\d/.test(text.trim()) && /\*\s*B:/.test(text);

function isoDate(yyyymmdd: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(yyyymmdd);
  if (!m) return null;
  return calendarDay(m[1]!, m[2]!, m[3]!);
}

const toMinor = (amount: string): number => {
  const [units, cents = ''] = amount.split('.');
  return Number(units) * 100 + Number(cents.padEnd(2, '0'));
};

export function parsePtAtQr(text: string): PtParse {
  const fields: Record<string, string> = {};
  let lastIndex = -1;
  for (const pair of text.trim().split('*')) {
    const colon = pair.indexOf(':');
    if (colon <= 0) return { ok: false, reason: `malformed pair "${pair.slice(0, 20)}"` };
    // Printers put a space around a field now and then (`H: RQD8L6DG-6145` in the AT examples).
    const key = pair.slice(0, colon).trim();
    const value = pair.slice(colon + 1).trim();
    const index = PT_KEY_ORDER.indexOf(key);
    if (index < 0) return { ok: false, reason: `unknown key ${key}` };
    if (index <= lastIndex) return { ok: false, reason: `key ${key} out of order` };
    lastIndex = index;
    fields[key] = value;
  }
  for (const key of MANDATORY) if (fields[key] === undefined) return { ok: false, reason: `missing ${key}` };
  const f = fields as Record<(typeof MANDATORY)[number], string>;

  if (!/^\d{9}$/.test(f.A)) return { ok: false, reason: 'A must be 9 digits' };
  if (f.B.length === 0 || f.B.length > 30) return { ok: false, reason: 'B length' };
  if (f.C.length === 0 || f.C.length > 12) return { ok: false, reason: 'C length' };
  if (!/^[A-Z]{2}$/.test(f.D)) return { ok: false, reason: 'D must be 2 letters' };
  if (!/^[NSARF]$/.test(f.E)) return { ok: false, reason: 'E must be N, S, A, R or F' };
  const issuedOn = isoDate(f.F);
  if (!issuedOn) return { ok: false, reason: 'F is not a date' };
  if (f.G.length === 0 || f.G.length > 60) return { ok: false, reason: 'G length' };
  if (f.H !== '0' && !/^[A-Z0-9]{8,}-\d+$/.test(f.H)) return { ok: false, reason: 'H is not an ATCUD' };
  // A region of Portugal, 0 (no VAT), or a foreign country's code (the specification's FR example).
  if (!/^(PT|PT-AC|PT-MA|0|[A-Z]{2})$/.test(f.I1)) return { ok: false, reason: 'I1 must be a tax region or 0' };
  for (const key of Object.keys(fields)) {
    const isAmount = /^[IJK][2-8]$/.test(key) || ['L', 'M', 'N', 'O', 'P'].includes(key);
    if (isAmount && !AMOUNT.test(fields[key]!)) return { ok: false, reason: `${key} is not an amount` };
  }
  if (f.Q.length !== 4) return { ok: false, reason: 'Q must be 4 characters' };
  // The certificate number is printed without leading zeros on many receipts (R:432, R:71); 0 is
  // what unsigned software writes, which the specification does not allow on an invoice.
  if (!/^\d{1,4}$/.test(f.R) || Number(f.R) === 0) return { ok: false, reason: 'R must be a software certificate number' };

  const problems: DocumentProblem[] = [];
  const sellerTaxIdValid = isValidPtNif(f.A);
  if (!sellerTaxIdValid) problems.push('seller_tax_id_invalid');
  if (!PT_ACCEPTED_TYPES.has(f.D)) problems.push('document_type_not_accepted');
  if (f.E !== 'N') problems.push('document_status_not_accepted');

  // ATCUD identifies the document nationwide; old documents carry H:0 and fall back to issuer+type+id.
  const documentKey = f.H !== '0' ? `pt:atcud:${f.H}` : `pt:doc:${f.A}|${f.D}|${f.G}`;
  return {
    ok: true,
    document: {
      format: 'pt_at',
      country: 'PT',
      documentKey,
      sellerTaxId: f.A,
      sellerTaxIdValid,
      buyerTaxId: f.B === '999999990' ? undefined : f.B,
      issuedOn,
      totalMinor: toMinor(f.O),
      currency: 'EUR',
      reference: f.H !== '0' ? `${f.G} · ATCUD ${f.H}` : f.G,
      problems,
      fields,
    },
  };
}

import type { Locale } from '../../shared/locale.js';
import type { Currency } from './types.js';
import { isValidBrCnpj, isValidByUnp, isValidKsefNumber, isValidPlNip, isValidPtNif, normalizeByUnp, normalizeTaxId, type TaxIdCountry } from './tax-ids.js';

/**
 * What OCR text of a printed receipt tells us: total, purchase date, seller tax id. Pure functions
 * over the recognised text, tolerant of the usual OCR noise (decimal comma, spaces inside amounts,
 * Cyrillic models reading `BYN` as `ВУМ` and `ООО` as `000`). A tax id is only kept when its check
 * digit holds: a misread digit must not become a seller, it becomes "unknown" for the moderator.
 */

/** The market whose receipts the participant most likely photographs (by their chat language). */
export type OcrMarket = 'pl' | 'pt' | 'be';
/** The receipts a participant of each language sends: Portuguese speakers' from Portugal or Brazil. */
export const OCR_MARKET: Record<Locale, OcrMarket> = { pl: 'pl', 'pt-PT': 'pt', 'pt-BR': 'pt', be: 'be' };

export interface OcrFacts {
  source: 'ocr';
  country?: TaxIdCountry;
  currency?: Currency;
  totalMinor?: number;
  /** `YYYY-MM-DD`. */
  issuedOn?: string;
  /** Normalised, check digit valid. */
  sellerTaxId?: string;
  /** A labelled tax id that failed its check digit (shown to the moderator, never used in rules). */
  unverifiedTaxId?: string;
  /** A KSeF invoice number printed on the document whose CRC-8 checks out: the invoice's own id. */
  ksefNumber?: string;
}

const KSEF_NUMBER = /(?<![0-9A-Z])\d{10}-\d{8}-[0-9A-F]{12}-[0-9A-F]{2}(?![0-9A-Z])/gi;

/** The first printed KSeF number that passes its check (a misread one is ignored). */
export function extractKsefNumber(text: string): string | undefined {
  for (const m of text.toUpperCase().matchAll(KSEF_NUMBER)) if (isValidKsefNumber(m[0])) return m[0];
  return undefined;
}

/** Keywords of the line holding the amount to pay, most specific first; each a regex source. */
const TOTAL_LABELS: Record<OcrMarket, string[]> = {
  pl: ['SUMA\\s*PLN', 'DO\\s*ZAP[ŁL]ATY', 'SUMA(?!\\s*PTU)', 'RAZEM'],
  pt: ['VALOR\\s*A\\s*PAGAR', 'TOTAL\\s*A\\s*PAGAR', 'VALOR\\s*TOTAL', 'TOTAL(?!\\s*(?:IVA|DE\\s*IVA|ITENS|DE\\s*ITENS|TRIBUTOS|IMPOSTOS))', 'SUBTOTAL'],
  be: ['ДА\\s*АПЛАТЫ', 'К\\s*ОПЛАТЕ', 'ИТОГО', 'ИТОГ', 'УСЯГО', 'ВСЕГО', 'СУМА', 'TOTAL'],
};

/** Lines that carry an amount near a total keyword but are not the amount paid. */
const NOT_TOTAL = /(?<![\p{L}])(PTU|VAT|IVA|НДС|ПДВ|RESZTA|TROCO|ЗДАЧА|СДАЧА)(?![\p{L}])/iu;

/** `1 234,56`, `1.234,56`, `12.30`, `12,30`: the last amount with two decimals on a line. */
const AMOUNT = /(\d{1,3}(?:[ .]\d{3})+|\d+)\s?[,.]\s?(\d{2})(?!\d)/g;

function amountsIn(line: string): number[] {
  // OCR reads O for 0 inside numbers ("1O,5O"); fix only between digits and separators.
  const fixed = line.replace(/(?<=[\d,.])[OoО](?=[\d,.\s]|$)/g, '0').replace(/(?<=\d)[OoО](?=\d)/g, '0');
  const out: number[] = [];
  for (const m of fixed.matchAll(AMOUNT)) {
    const units = Number(m[1]!.replace(/[ .]/g, ''));
    const minor = units * 100 + Number(m[2]);
    if (Number.isSafeInteger(minor)) out.push(minor);
  }
  return out;
}

/** Upper case and single spaces, so one label regex fits every line. */
function normaliseLine(line: string): string {
  return line.toUpperCase().replace(/\s+/g, ' ').trim();
}

export function extractTotal(text: string, market: OcrMarket): number | undefined {
  const lines = text.split(/\r?\n/).map(normaliseLine).filter(Boolean);
  for (const label of TOTAL_LABELS[market]) {
    const re = new RegExp(`(?:^|[^\\p{L}])${label}(?![\\p{L}])`, 'u');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const m = re.exec(line);
      if (!m || NOT_TOTAL.test(line)) continue;
      const after = amountsIn(line.slice(m.index + m[0].length));
      if (after.length) return after[after.length - 1];
      // The amount may sit on the next line (narrow printers wrap it).
      const next = lines[i + 1];
      if (next && !NOT_TOTAL.test(next)) {
        const below = amountsIn(next);
        if (below.length) return below[below.length - 1];
      }
    }
  }
  return undefined;
}

function validDate(y: number, m: number, d: number): string | undefined {
  if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1) return undefined;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCMonth() !== m - 1) return undefined;
  return date.toISOString().slice(0, 10);
}

/** The first real calendar date in `YYYY-MM-DD`, `DD-MM-YYYY`, `DD.MM.YYYY` or `DD/MM/YYYY` form. */
export function extractDate(text: string): string | undefined {
  const re = /(?<!\d)(?:(\d{4})[-./](\d{2})[-./](\d{2})|(\d{2})[-./](\d{2})[-./](\d{4}))(?!\d)/g;
  for (const m of text.matchAll(re)) {
    const iso = m[1] ? validDate(Number(m[1]), Number(m[2]), Number(m[3])) : validDate(Number(m[6]), Number(m[5]), Number(m[4]));
    if (iso) return iso;
  }
  return undefined;
}

interface TaxIdPattern {
  country: TaxIdCountry;
  /** Label, then the id; group 1 is the id with its printed punctuation. */
  re: RegExp;
  valid: (v: string) => boolean;
}

const TAX_IDS: TaxIdPattern[] = [
  { country: 'PL', re: /\bNIP[ \t:.]*((?:PL)?[ \t]?(?:\d[ \t-]?){9}\d)(?!\d)/gi, valid: isValidPlNip },
  { country: 'BR', re: /\bCNPJ[ \t:.]*([0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}\/?[0-9A-Z]{4}-?\d{2})/gi, valid: isValidBrCnpj },
  { country: 'PT', re: /\b(?:NIF|NIPC|CONTRIBUINTE)(?:[ \t]*N\.?[ºO°]?)?[ \t:.]*((?:PT)?[ \t]?\d{3}[ \t]?\d{3}[ \t]?\d{3})(?!\d)/gi, valid: isValidPtNif },
  // УНП read by Cyrillic models; UNP/YHП when the Latin model wins.
  { country: 'BY', re: /(?:УНП|UNP|YHП|YHN|УHП|УНN)[ \t:.№]*([0-9A-ZАВЕКМНОРСТ]{9})(?![0-9A-Z])/giu, valid: isValidByUnp },
];

const MARKET_COUNTRIES: Record<OcrMarket, TaxIdCountry[]> = { pl: ['PL'], pt: ['PT', 'BR'], be: ['BY'] };

/**
 * The seller's tax id: the first labelled id of the market's countries whose check digit holds
 * (a buyer's NIF printed lower down comes later). Also the first labelled one that failed.
 */
export function extractTaxId(text: string, market: OcrMarket): { country: TaxIdCountry; id: string; valid: boolean } | undefined {
  let unverified: { country: TaxIdCountry; id: string; valid: boolean } | undefined;
  let best: { country: TaxIdCountry; id: string; valid: boolean; at: number } | undefined;
  for (const p of TAX_IDS.filter((x) => MARKET_COUNTRIES[market].includes(x.country))) {
    for (const m of text.matchAll(p.re)) {
      const raw = m[1]!.replace(/[\s.\-/]/g, '');
      const id = p.country === 'BY' ? normalizeByUnp(raw) : normalizeTaxId(p.country, raw);
      if (p.valid(id)) {
        if (!best || m.index < best.at) best = { country: p.country, id, valid: true, at: m.index };
        break;
      }
      unverified ??= { country: p.country, id, valid: false };
    }
  }
  return best ? { country: best.country, id: best.id, valid: true } : unverified;
}

function currencyOf(text: string, market: OcrMarket, country: TaxIdCountry | undefined): Currency {
  if (market === 'pl') return 'PLN';
  if (market === 'be') return 'BYN'; // also when the model read BYN as ВУМ
  if (country === 'BR' || /R\$|\bCNPJ\b|\bNFC-?E\b/i.test(text)) return 'BRL';
  return 'EUR';
}

export function countryOf(market: OcrMarket, currency: Currency): TaxIdCountry {
  return market === 'pl' ? 'PL' : market === 'be' ? 'BY' : currency === 'BRL' ? 'BR' : 'PT';
}

/** Everything OCR text tells us, for the same rules and flags as a QR reading. */
export function readReceiptText(text: string, market: OcrMarket): OcrFacts {
  const taxId = extractTaxId(text, market);
  const currency = currencyOf(text, market, taxId?.country);
  const facts: OcrFacts = { source: 'ocr', currency, country: taxId?.country ?? countryOf(market, currency) };
  const total = extractTotal(text, market);
  if (total !== undefined) facts.totalMinor = total;
  const date = extractDate(text);
  if (date) facts.issuedOn = date;
  if (taxId?.valid) facts.sellerTaxId = taxId.id;
  else if (taxId) facts.unverifiedTaxId = taxId.id;
  const ksef = market === 'pl' ? extractKsefNumber(text) : undefined;
  if (ksef) facts.ksefNumber = ksef;
  return facts;
}

/** True when OCR found anything a rule can use. */
export const ocrFoundSomething = (f: OcrFacts | null | undefined): boolean =>
  Boolean(f && (f.totalMinor !== undefined || f.issuedOn || f.sellerTaxId));

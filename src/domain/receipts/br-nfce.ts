import type { DocumentProblem, FiscalDocument } from './types.js';
import { BR_ACCESS_KEY, brAccessKeyDv, isValidBrCnpj } from './tax-ids.js';
import { calendarDay } from './dates.js';

/**
 * Brazil's NFC-e QR: a URL to the issuing state's SEFAZ (hosts differ per state, so none is
 * whitelisted). Forms: v1 `?chNFe=…&nVersao=100&tpAmb=…&dhEmi=<hex>&vNF=…`, v2 online
 * `?p=CHAVE|2|tpAmb|cIdToken|HASH`, v2 offline `?p=CHAVE|2|tpAmb|DD|vNF|digVal|cIdToken|HASH`,
 * v3 online `?p=CHAVE|3|tpAmb` (offline v3 adds day and total after tpAmb; its exact tail is not
 * confirmed, so only those two are read). The online forms carry no total and only the month.
 * The hash needs the shop's secret CSC and cannot be verified here.
 */

export type BrParse = { ok: true; document: FiscalDocument } | { ok: false; reason: string };

export function looksLikeBrNfce(text: string): boolean {
  const t = text.trim();
  if (/^[0-9A-Za-z]{44}$/.test(t) && /^\d{2}/.test(t)) return true;
  return /^https?:\/\//i.test(t) && /[?&](p|chNFe)=/i.test(t);
}

const AMOUNT = /^\d{1,13}(\.\d{1,2})?$/;
const toMinor = (amount: string): number => Math.round(Number(amount) * 100);

function hexToText(hex: string): string | null {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) return null;
  return Buffer.from(hex, 'hex').toString('latin1');
}

function validDay(month: string, day: string): string | null {
  if (!/^\d{1,2}$/.test(day)) return null;
  const [y, m] = month.split('-');
  return calendarDay(y!, m!, day);
}

interface Extracted {
  chave: string;
  version: string;
  tpAmb: string;
  day?: string;
  /** v1 dhEmi: `YYYY-MM-DD…` as written, checked to be a real day by the caller. */
  isoDate?: string;
  total?: string;
}

function extract(text: string): Extracted | string {
  const t = text.trim();
  if (!/^https?:\/\//i.test(t)) return { chave: t.toUpperCase(), version: 'key', tpAmb: '1' };
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return 'not a URL';
  }
  const p = url.searchParams.get('p');
  if (p) {
    const parts = p.split('|');
    const [chave = '', version = '', tpAmb = ''] = parts;
    if (version === '2') {
      if (parts.length === 5) return { chave, version, tpAmb };
      if (parts.length === 8) return { chave, version, tpAmb, day: parts[3], total: parts[4] };
      return `v2 with ${parts.length} fields`;
    }
    if (version === '3') {
      if (parts.length === 3) return { chave, version, tpAmb };
      if (parts.length >= 5) return { chave, version, tpAmb, day: parts[3], total: parts[4] };
      return `v3 with ${parts.length} fields`;
    }
    return `unknown version ${version}`;
  }
  const chNFe = url.searchParams.get('chNFe');
  if (chNFe) {
    const dh = hexToText(url.searchParams.get('dhEmi') ?? '');
    const isoDate = dh && /^\d{4}-\d{2}-\d{2}/.test(dh) ? dh.slice(0, 10) : undefined;
    return {
      chave: chNFe,
      version: '1',
      tpAmb: url.searchParams.get('tpAmb') ?? '',
      isoDate,
      total: url.searchParams.get('vNF') ?? undefined,
    };
  }
  return 'no p or chNFe parameter';
}

export function parseBrNfce(text: string): BrParse {
  const e = extract(text);
  if (typeof e === 'string') return { ok: false, reason: e };
  const chave = e.chave.toUpperCase();
  const m = BR_ACCESS_KEY.exec(chave);
  if (!m) return { ok: false, reason: 'access key is not 44 characters in the NF-e layout' };
  if (brAccessKeyDv(chave.slice(0, 43)) !== Number(chave[43])) return { ok: false, reason: 'access key check digit' };
  const [, cUF, yy, mm, cnpj, mod, serie, nNF, tpEmis, cNF] = m as unknown as string[];
  if (mod !== '65' && mod !== '55') return { ok: false, reason: `model ${mod} is not NF-e/NFC-e` };
  if (!['1', '2'].includes(e.tpAmb)) return { ok: false, reason: 'tpAmb must be 1 or 2' };
  const month = `20${yy}-${mm}`;
  if (Number(mm) < 1 || Number(mm) > 12) return { ok: false, reason: 'month in the key' };

  let issuedOn: string | undefined;
  if (e.isoDate !== undefined) {
    // Only the format was checked: 2026-02-31 must not reach the database as a date.
    const [y, m, d] = e.isoDate.split('-');
    const day = calendarDay(y!, m!, d!);
    if (!day) return { ok: false, reason: 'dhEmi is not a date' };
    issuedOn = day;
  }
  if (!issuedOn && e.day) {
    const day = validDay(month, e.day);
    if (!day) return { ok: false, reason: 'day of issue' };
    issuedOn = day;
  }
  if (e.total !== undefined && !AMOUNT.test(e.total)) return { ok: false, reason: 'vNF is not an amount' };

  const problems: DocumentProblem[] = [];
  const sellerTaxIdValid = isValidBrCnpj(cnpj!);
  if (!sellerTaxIdValid) problems.push('seller_tax_id_invalid');
  if (e.tpAmb === '2') problems.push('test_environment');
  return {
    ok: true,
    document: {
      format: 'br_nfce',
      country: 'BR',
      documentKey: `br:${chave}`,
      sellerTaxId: cnpj!,
      sellerTaxIdValid,
      issuedOn,
      issuedMonth: issuedOn ? undefined : month,
      totalMinor: e.total !== undefined ? toMinor(e.total) : undefined,
      currency: 'BRL',
      reference: `NFC-e ${Number(serie)}/${Number(nNF)}`,
      problems,
      fields: {
        chave, version: e.version, tpAmb: e.tpAmb, cUF: cUF!, mod: mod!, serie: serie!, nNF: nNF!,
        tpEmis: tpEmis!, cNF: cNF!, ...(e.total !== undefined ? { vNF: e.total } : {}),
      },
    },
  };
}

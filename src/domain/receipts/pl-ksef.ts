import type { DocumentProblem, FiscalDocument } from './types.js';
import { isValidPlNip } from './tax-ids.js';
import { calendarDay } from './dates.js';

/**
 * Poland's KSeF invoice QR, "KOD I": `https://qr.ksef.mf.gov.pl/invoice/{NIP}/{DD-MM-YYYY}/{hash}`
 * where hash is the base64url SHA-256 of the invoice XML (43 characters). The July 2025 docs used
 * `/client-app/invoice/…`, and `qr-test.` and `qr-demo.` are the test and demo environments, so
 * they are accepted and flagged. Receipts (paragony) normally carry no QR; this is for invoices.
 */

export type PlParse = { ok: true; document: FiscalDocument } | { ok: false; reason: string };

/** Production, and the ministry's test and demo environments (their documents are flagged). */
const HOSTS = new Set(['qr.ksef.mf.gov.pl', 'qr-test.ksef.mf.gov.pl', 'qr-demo.ksef.mf.gov.pl']);

export function looksLikeKsef(text: string): boolean {
  return /^https?:\/\/qr(-test|-demo)?\.ksef\.mf\.gov\.pl\//i.test(text.trim());
}

export function parseKsefQr(text: string): PlParse {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  const host = url.hostname.toLowerCase();
  if (!HOSTS.has(host)) return { ok: false, reason: 'not a KSeF host' };
  const m = /^\/(?:client-app\/)?invoice\/([^/]+)\/(\d{2})-(\d{2})-(\d{4})\/([A-Za-z0-9_-]{43})\/?$/.exec(url.pathname);
  if (!m) {
    return { ok: false, reason: url.pathname.includes('/certificate/') ? 'KOD II (certificate), not an invoice code' : 'path' };
  }
  const [, nip, dd, mm, yyyy, hash] = m as unknown as string[];
  const iso = calendarDay(yyyy!, mm!, dd!);
  if (!iso) return { ok: false, reason: 'date' };
  if (!/^\d{10}$/.test(nip!)) return { ok: false, reason: 'NIP must be 10 digits' };

  const problems: DocumentProblem[] = [];
  const sellerTaxIdValid = isValidPlNip(nip!);
  if (!sellerTaxIdValid) problems.push('seller_tax_id_invalid');
  if (host !== 'qr.ksef.mf.gov.pl') problems.push('test_environment');
  return {
    ok: true,
    document: {
      format: 'pl_ksef',
      country: 'PL',
      // The hash is of the invoice XML itself: unique per invoice whoever photographs it.
      documentKey: `pl:ksef:${nip}:${hash}`,
      sellerTaxId: nip!,
      sellerTaxIdValid,
      issuedOn: iso,
      currency: 'PLN',
      reference: `KSeF ${hash!.slice(0, 8)}…`,
      problems,
      fields: { nip: nip!, date: iso, hash: hash!, host },
    },
  };
}

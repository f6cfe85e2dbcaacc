import type { QrReading } from './types.js';
import { looksLikePtAt, parsePtAtQr } from './pt-at-qr.js';
import { looksLikeBrNfce, parseBrNfce } from './br-nfce.js';
import { looksLikeKsef, parseKsefQr } from './pl-ksef.js';

/**
 * Routes one decoded QR text to the parser of its format. A text that is clearly meant to be a
 * fiscal code but fails its rules is `invalid` (a review flag); anything else is kept raw.
 */
export function readQrText(text: string): QrReading {
  if (looksLikePtAt(text)) {
    const r = parsePtAtQr(text);
    return r.ok ? { kind: 'fiscal', document: r.document } : { kind: 'invalid', format: 'pt_at', reason: r.reason };
  }
  if (looksLikeKsef(text)) {
    const r = parseKsefQr(text);
    return r.ok ? { kind: 'fiscal', document: r.document } : { kind: 'invalid', format: 'pl_ksef', reason: r.reason };
  }
  if (looksLikeBrNfce(text)) {
    const r = parseBrNfce(text);
    return r.ok ? { kind: 'fiscal', document: r.document } : { kind: 'invalid', format: 'br_nfce', reason: r.reason };
  }
  return { kind: 'other', text };
}

/**
 * A photo may hold several codes (a shop's website QR next to the fiscal one): the best reading
 * wins: a valid fiscal document, else an invalid fiscal one (so the flag is shown), else raw.
 */
export function bestReading(texts: string[]): QrReading | null {
  const readings = texts.map(readQrText);
  return (
    readings.find((r) => r.kind === 'fiscal') ??
    readings.find((r) => r.kind === 'invalid') ??
    readings[0] ??
    null
  );
}

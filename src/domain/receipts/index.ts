export * from './types.js';
export * from './tax-ids.js';
export { parsePtAtQr, looksLikePtAt, PT_ACCEPTED_TYPES } from './pt-at-qr.js';
export { parseBrNfce, looksLikeBrNfce } from './br-nfce.js';
export { parseKsefQr, looksLikeKsef } from './pl-ksef.js';
export { readQrText, bestReading } from './read-qr.js';
export * from './rules.js';
export * from './review.js';
export { readReceiptText, OCR_MARKET, extractTotal, extractDate, extractTaxId, ocrFoundSomething, type OcrFacts, type OcrMarket } from './ocr-text.js';

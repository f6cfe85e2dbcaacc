/**
 * Receipt photos: intake (stored, acknowledged at once), background reading (fiscal QR codes,
 * duplicate signals, campaign rules), and the moderator's decision with an exactly-once credit
 * (`receipt:<id>:approve` in the ledger).
 */
export * from './types.js';
export { createReceipts } from './create-receipts.js';
export { createQrDecoder, type QrDecoder } from './qr-decoder.js';
export { createDirectoryMediaStore, receiptMediaKey, type MediaStore } from './media-store.js';
export { checkImage, differenceHash, hammingDistance, DEFAULT_IMAGE_LIMITS, type ImageLimits, type ImageCheck } from './image.js';
export { reviewCard, reasonChoices, approvedNotice, rejectedNotice, formatMoney } from './messages.js';
export { loadMediaSecret } from './media-secret.js';
export { createTesseractOcr, prepareLanguageDir, OCR_LANGUAGES, type ReceiptOcr } from './ocr.js';

import { z } from 'zod';
import type { FiscalDocument, QrReading } from './types.js';
import { normalizeTaxId, type TaxIdCountry } from './tax-ids.js';
import { ocrFoundSomething, type OcrFacts } from './ocr-text.js';

/** The most points one receipt can carry (the points columns are Postgres `integer`). */
export const MAX_RECEIPT_POINTS = 2_147_483_647;
/**
 * A total above this (in minor units: 1 000 000,00) is a misread or a forged code, not a shop
 * purchase: it is flagged for a moderator and no points are offered for it.
 */
export const MAX_PLAUSIBLE_TOTAL_MINOR = 100_000_000;

/**
 * A campaign's receipt rules and their evaluation. Evaluation never rejects: it returns flags
 * (what a moderator should look at), a confidence, the points the rules give, and whether the
 * receipt may be approved without a human.
 */
const RULES_SHAPE = {
  /** First and last day a purchase counts (`YYYY-MM-DD`); default: the campaign's own dates. */
  purchaseFrom: z.iso.date().optional(),
  purchaseTo: z.iso.date().optional(),
  /** Minimum receipt total in currency units (e.g. 20 = 20,00 €). */
  minTotal: z.number().nonnegative().max(1_000_000).optional(),
  /** Points per currency unit of the total (rounded down), e.g. 1 point per 1 zł. */
  pointsPerUnit: z.number().positive().max(10_000).optional(),
  /** Points per accepted receipt, whatever its total. Wins over pointsPerUnit. */
  fixedPoints: z.number().int().positive().max(10_000_000).optional(),
  /** Upper bound of the points one receipt can earn. Required for autoApprove with pointsPerUnit. */
  maxPointsPerReceipt: z.number().int().positive().max(10_000_000).optional(),
  /** Tax ids of the shops whose receipts count; empty = every shop. */
  allowedSellers: z.array(z.string().min(1)).default([]),
  /** Receipts a participant may submit per calendar week (Monday to Sunday). */
  perWeekLimit: z.number().int().positive().max(1000).optional(),
  /**
   * Approve without a moderator when a valid fiscal QR gives a unique document inside the rules.
   * A fiscal QR is not signed in a way we can check (a made-up ATCUD with a valid NIF passes), so
   * the points it can earn must be bounded: fixedPoints, or maxPointsPerReceipt.
   */
  autoApprove: z.boolean().default(false),
};

/** Rules as stored before the autoApprove bound existed: read leniently, never auto-approved unbounded. */
export const StoredReceiptRules = z.object(RULES_SHAPE);

export const ReceiptRules = z.object(RULES_SHAPE).refine(
  (r) => !r.autoApprove || r.fixedPoints !== undefined || r.maxPointsPerReceipt !== undefined,
  {
    message: 'autoApprove needs maxPointsPerReceipt (or fixedPoints): a forged total must not pay without limit',
    path: ['maxPointsPerReceipt'],
  },
);
export type ReceiptRules = z.output<typeof ReceiptRules>;

export const RECEIPT_FLAGS = [
  'no_qr',
  'unrecognized_qr',
  'invalid_qr',
  'tax_id_invalid',
  'document_not_accepted',
  'test_document',
  'duplicate_image',
  'duplicate_document',
  'similar_image',
  'date_outside_window',
  'date_in_future',
  'date_unknown',
  'total_below_minimum',
  'total_unknown',
  'seller_not_allowed',
  'weekly_limit_reached',
  'no_campaign',
  /** The total is beyond any shop purchase (MAX_PLAUSIBLE_TOTAL_MINOR). */
  'total_implausible',
  /** Reading it failed again and again: set aside for a moderator with what the photo shows. */
  'unreadable',
] as const;
export type ReceiptFlag = (typeof RECEIPT_FLAGS)[number];

/** Flags that say "this may be fraud or a repeat", weighed more heavily in the confidence. */
const SERIOUS: ReadonlySet<ReceiptFlag> = new Set([
  'duplicate_image', 'duplicate_document', 'tax_id_invalid', 'invalid_qr', 'test_document', 'document_not_accepted',
  'total_implausible',
]);

/**
 * Flags shown to a moderator that do not stop auto-approval of a valid, unique fiscal document: a
 * perceptual hash match says "looks alike", and receipts of one shop all look alike.
 */
const HINTS: ReadonlySet<ReceiptFlag> = new Set(['similar_image']);

export interface EvaluateInput {
  reading: QrReading | null;
  rules: ReceiptRules | null;
  /** The campaign's own dates, used when the rules give no purchase window. */
  campaignWindow?: { from: string; to: string };
  duplicates: { image: boolean; document: boolean; similar: boolean };
  /** Earlier receipts of this participant in the same week that were not rejected. */
  receiptsThisWeek: number;
  /** Today in the program's time zone, `YYYY-MM-DD`. */
  today: string;
  /**
   * What OCR read from the printed text (RECEIPT_OCR=on), used where the QR gave nothing. It feeds
   * the same date, total and seller rules, with a lower confidence, and never auto-approves.
   */
  ocr?: OcrFacts | null;
}

/** The facts the rules look at, from the fiscal QR first and OCR where the QR is silent. */
interface Facts {
  country?: TaxIdCountry;
  sellerTaxId?: string;
  issuedOn?: string;
  issuedMonth?: string;
  totalMinor?: number;
  /** Some fact the rules used came from OCR. */
  fromOcr: boolean;
}

function factsOf(doc: FiscalDocument | undefined, ocr: OcrFacts | null | undefined): Facts | undefined {
  if (!doc && !ocrFoundSomething(ocr)) return undefined;
  const o = ocr ?? undefined;
  const f: Facts = { fromOcr: false, country: doc?.country ?? o?.country };
  f.sellerTaxId = doc?.sellerTaxId;
  if (!f.sellerTaxId && o?.sellerTaxId) Object.assign(f, { sellerTaxId: o.sellerTaxId, fromOcr: true });
  f.issuedOn = doc?.issuedOn;
  f.issuedMonth = doc?.issuedMonth;
  // An OCR day inside the QR's month (Brazil's online QR) narrows it; a day outside it is a misread.
  if (!f.issuedOn && o?.issuedOn && (!f.issuedMonth || o.issuedOn.startsWith(f.issuedMonth))) {
    Object.assign(f, { issuedOn: o.issuedOn, fromOcr: true });
  }
  f.totalMinor = doc?.totalMinor;
  if (f.totalMinor === undefined && o?.totalMinor !== undefined) Object.assign(f, { totalMinor: o.totalMinor, fromOcr: true });
  return f;
}

export interface Evaluation {
  flags: ReceiptFlag[];
  /** 0..1: how sure the machine is that this is a genuine, eligible, first-time purchase. */
  confidence: number;
  /** Points the rules give, or null when they depend on a total nobody could read. */
  computedPoints: number | null;
  autoApprove: boolean;
}

const lastDayOfMonth = (month: string): string => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
};

function dateFlags(doc: Facts | undefined, window: { from?: string; to?: string }, today: string): ReceiptFlag[] {
  if (!doc) return window.from || window.to ? ['date_unknown'] : [];
  const from = doc.issuedOn ?? (doc.issuedMonth ? `${doc.issuedMonth}-01` : undefined);
  const to = doc.issuedOn ?? (doc.issuedMonth ? lastDayOfMonth(doc.issuedMonth) : undefined);
  if (!from || !to) return ['date_unknown'];
  const flags: ReceiptFlag[] = [];
  if (from > today) flags.push('date_in_future');
  const outside = (window.from !== undefined && to < window.from) || (window.to !== undefined && from > window.to);
  // Only the month known (Brazil online QR) and it straddles a window edge: a human decides.
  const straddles = !outside && ((window.from !== undefined && from < window.from) || (window.to !== undefined && to > window.to));
  if (outside) flags.push('date_outside_window');
  else if (straddles) flags.push('date_unknown');
  return flags;
}

export function computePoints(rules: ReceiptRules, totalMinor: number | undefined): number | null {
  let points: number | null;
  if (rules.fixedPoints !== undefined) points = rules.fixedPoints;
  else if (rules.pointsPerUnit !== undefined) {
    // Integer arithmetic on minor units; the epsilon keeps 0.1 × 30,00 from flooring to 2.
    points = totalMinor === undefined ? null : Math.floor((totalMinor * rules.pointsPerUnit) / 100 + 1e-9);
  } else points = null;
  if (points !== null && rules.maxPointsPerReceipt !== undefined) points = Math.min(points, rules.maxPointsPerReceipt);
  return points === null ? null : Math.min(points, MAX_RECEIPT_POINTS);
}

export function evaluateReceipt(input: EvaluateInput): Evaluation {
  const { reading, rules } = input;
  // A fiscal QR that the rules accept alone is not held back by an OCR reading it did not need.
  if (input.ocr && reading?.kind === 'fiscal') {
    const qrOnly = evaluateReceipt({ ...input, ocr: null });
    if (qrOnly.autoApprove) return qrOnly;
  }
  const flags: ReceiptFlag[] = [];
  const doc = reading?.kind === 'fiscal' ? reading.document : undefined;
  const facts = factsOf(doc, input.ocr);

  if (!reading) flags.push('no_qr');
  else if (reading.kind === 'other') flags.push('unrecognized_qr');
  else if (reading.kind === 'invalid') flags.push('invalid_qr');
  if (doc) {
    if (doc.problems.includes('seller_tax_id_invalid')) flags.push('tax_id_invalid');
    if (doc.problems.includes('document_type_not_accepted') || doc.problems.includes('document_status_not_accepted')) {
      flags.push('document_not_accepted');
    }
    if (doc.problems.includes('test_environment')) flags.push('test_document');
  }
  if (input.duplicates.image) flags.push('duplicate_image');
  if (input.duplicates.document) flags.push('duplicate_document');
  if (input.duplicates.similar && !input.duplicates.image) flags.push('similar_image');

  let computedPoints: number | null = null;
  if (!rules) flags.push('no_campaign');
  else {
    const window = { from: rules.purchaseFrom ?? input.campaignWindow?.from, to: rules.purchaseTo ?? input.campaignWindow?.to };
    for (const f of dateFlags(facts, window, input.today)) flags.push(f);
    const implausible = facts?.totalMinor !== undefined && facts.totalMinor > MAX_PLAUSIBLE_TOTAL_MINOR;
    if (rules.minTotal !== undefined) {
      if (facts?.totalMinor === undefined) flags.push('total_unknown');
      else if (facts.totalMinor < Math.round(rules.minTotal * 100)) flags.push('total_below_minimum');
    }
    if (implausible) {
      // No "approve +2 147 483 647" button for a misread: the moderator types the points.
      flags.push('total_implausible');
      computedPoints = rules.fixedPoints !== undefined ? computePoints(rules, undefined) : null;
    } else {
      computedPoints = computePoints(rules, facts?.totalMinor);
      if (computedPoints === null && !flags.includes('total_unknown')) flags.push('total_unknown');
    }
    if (rules.allowedSellers.length > 0) {
      const allowed =
        facts?.country && facts.sellerTaxId && rules.allowedSellers.some((s) => normalizeTaxId(facts.country!, s) === facts.sellerTaxId);
      if (!allowed) flags.push('seller_not_allowed');
    }
    if (rules.perWeekLimit !== undefined && input.receiptsThisWeek >= rules.perWeekLimit) flags.push('weekly_limit_reached');
  }

  // OCR text is read, not verified: a total or date from it is worth less than a signed fiscal code.
  const base = doc ? (facts?.fromOcr ? 0.8 : 0.95) : facts?.fromOcr ? 0.5 : reading?.kind === 'invalid' ? 0.4 : reading?.kind === 'other' ? 0.3 : 0.15;
  const penalty = flags.reduce((sum, f) => sum + (SERIOUS.has(f) ? 0.35 : ['no_qr', 'unrecognized_qr'].includes(f) ? 0 : 0.15), 0);
  const confidence = Math.round(Math.max(0, Math.min(1, base - penalty)) * 100) / 100;
  const blocking = flags.filter((f) => !HINTS.has(f));
  // Rules stored before maxPointsPerReceipt was required for autoApprove never pay an unbounded total.
  const bounded = rules?.fixedPoints !== undefined || rules?.maxPointsPerReceipt !== undefined;
  const autoApprove = Boolean(rules?.autoApprove) && bounded && doc !== undefined && !facts?.fromOcr && blocking.length === 0 && computedPoints !== null && computedPoints > 0;
  return { flags, confidence, computedPoints, autoApprove };
}

/** Monday of the week containing `isoDate` (`YYYY-MM-DD`), the start of the weekly limit. */
export function weekStart(isoDate: string): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - dow);
  return d.toISOString().slice(0, 10);
}

/**
 * A raw (non-fiscal) QR text is used as a duplicate key only when it is specific to one receipt:
 * long enough, and not a bare link (every receipt of a shop may carry the shop's website).
 */
export function rawQrIsDistinctive(text: string): boolean {
  const t = text.trim();
  if (t.length < 16) return false;
  if (/^https?:\/\//i.test(t)) {
    try {
      return new URL(t).search.length > 1;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Reading a receipt in the background: the photo's fiscal QR (and OCR of the printed text when the
 * QR does not give the total or the date), duplicate signals, the campaign's rules; then either an
 * automatic approval or a review card for the reviewers. Slow work (decoding, hashing, OCR) runs
 * outside any transaction. A receipt that keeps failing is set aside for a moderator.
 */
import { isUniqueViolation, withTransaction } from '../../db/sql.js';
import * as repo from '../../db/receipts/receipts-repo.js';
import type { ReceiptRow } from '../../db/receipts/receipts-repo.js';
import * as dup from '../../db/receipts/duplicates-repo.js';
import { lockDocument } from '../../db/receipts/duplicates-repo.js';
import { getRules } from '../../db/receipts/rules-repo.js';
import { programTimeZone } from '../../db/programs/repo.js';
import { sha256Hex } from '../../shared/ids.js';
import {
  bestReading,
  evaluateReceipt,
  rawQrIsDistinctive,
  readReceiptText,
  OCR_MARKET,
  ocrFoundSomething,
  ReceiptRules,
  type OcrFacts,
  weekStart,
  type QrReading,
} from '../../domain/receipts/index.js';
import { differenceHash } from './image.js';
import { atomically, localDate, storable, type ReceiptsContext } from './context.js';
import { approveIn, CampaignLimit } from './approve-receipt.js';
import { notifyReviewers } from './notify-reviewers.js';
import type { ProcessResult } from './types.js';

export async function readReceipt(ctx: ReceiptsContext, receiptId: string): Promise<ProcessResult> {
  const before = await repo.getReceipt(ctx.sql, receiptId);
  if (!before) return { status: 'skipped', reason: 'not_found' };
  if (before.status !== 'received') return { status: 'skipped', reason: 'already_processed' };
  const attempts = await repo.countAttempt(ctx.sql, receiptId);
  if (attempts === null) return { status: 'skipped', reason: 'already_processed' };
  // Past the limit without a recorded failure: an earlier run died with its process (OOM, crash).
  if (attempts > ctx.maxAttempts) return setAside(ctx, before, attempts, null);
  try {
    return await processOnce(ctx, receiptId, before);
  } catch (error) {
    if (attempts < ctx.maxAttempts) throw error;
    return setAside(ctx, before, attempts, error);
  }
}

/** OCR of the printed text in the participant's language; a failure only means "nothing read". */
async function readText(ctx: ReceiptsContext, receipt: ReceiptRow, bytes: Buffer): Promise<OcrFacts | null> {
  if (!ctx.ocr) return null;
  try {
    const participant = await ctx.participants.getById(ctx.sql, receipt.participantId);
    const locale = participant ? await ctx.participants.locale(ctx.sql, participant) : 'pl';
    const started = Date.now();
    const text = await ctx.ocr.read(bytes, locale);
    const facts = readReceiptText(text, OCR_MARKET[locale]);
    ctx.logger?.info({ receiptId: receipt.id, ms: Date.now() - started, found: ocrFoundSomething(facts) }, 'receipt OCR done');
    return facts;
  } catch (error) {
    ctx.logger?.warn({ err: error, receiptId: receipt.id }, 'receipt OCR failed');
    return null;
  }
}

async function processOnce(ctx: ReceiptsContext, receiptId: string, before: ReceiptRow): Promise<ProcessResult> {
  // Slow work (decoding, hashing) happens outside any transaction.
  const bytes = await ctx.media.get(before.mediaKey);
  let texts: string[] = [];
  let dhash: string | null = null;
  if (bytes) {
    try {
      texts = (await ctx.decoder.decode(bytes)).map(storable);
    } catch (error) {
      ctx.logger?.warn({ err: error, receiptId }, 'QR decoding failed');
    }
    dhash = await differenceHash(bytes).catch(() => null);
  } else {
    ctx.logger?.error({ receiptId, mediaKey: before.mediaKey }, 'receipt photo missing from the media store');
  }
  const reading: QrReading | null = bestReading(texts);
  const doc = reading?.kind === 'fiscal' ? reading.document : undefined;
  const ocr = bytes && (!doc || doc.totalMinor === undefined || !doc.issuedOn) ? await readText(ctx, before, bytes) : null;
  const documentKey = doc
    ? doc.documentKey
    : ocr?.ksefNumber
      ? `pl:ksef-number:${ocr.ksefNumber}`
      : reading?.kind === 'other' && rawQrIsDistinctive(reading.text)
      ? `qr:${sha256Hex(reading.text)}`
      : null;

  return withTransaction(ctx.sql, async (tx) => {
    const r = await repo.getReceipt(tx, receiptId, { forUpdate: true });
    if (!r || r.status !== 'received') return { status: 'skipped', reason: 'already_processed' } as const;
    // Two photos of one document processed at once must see each other: serialise on the key.
    if (documentKey) await lockDocument(tx, r.programId, documentKey);
    const now = ctx.clock.now();
    const timeZone = await programTimeZone(tx, r.programId);
    const campaign = r.campaignId ? await getRules(tx, r.campaignId) : null;
    const rules = campaign ? ReceiptRules.parse(campaign.rules) : null;
    const duplicates = {
      image: await dup.sameImageExists(tx, r),
      document: documentKey ? await dup.sameDocumentExists(tx, r.programId, documentKey, r.id) : false,
      similar: dhash
        ? await dup.similarImageExists(tx, { id: r.id, programId: r.programId, dhash, since: new Date(now.getTime() - 365 * 86_400_000) }, ctx.similarDistance)
        : false,
    };
    const receiptsThisWeek = await dup.countInWeek(tx, {
      participantId: r.participantId,
      excludeId: r.id,
      weekStart: weekStart(localDate(r.createdAt, timeZone)),
      timeZone,
    });
    const evaluation = evaluateReceipt({
      reading,
      rules,
      campaignWindow: campaign
        ? { from: localDate(campaign.startsAt, timeZone), to: localDate(new Date(campaign.endsAt.getTime() - 1), timeZone) }
        : undefined,
      duplicates,
      receiptsThisWeek,
      today: localDate(now, timeZone),
      ocr,
    });
    const fromOcr = ocrFoundSomething(ocr);
    const saved = await repo.saveProcessed(
      tx,
      r.id,
      {
        imageDhash: dhash,
        qrTexts: texts,
        reading: !reading ? (fromOcr ? 'ocr' : 'none') : reading.kind === 'fiscal' ? reading.document.format : reading.kind === 'invalid' ? `invalid:${reading.format}` : 'other',
        documentKey,
        sellerTaxId: doc?.sellerTaxId ?? ocr?.sellerTaxId ?? null,
        issuedOn: doc?.issuedOn ?? (ocr?.issuedOn && (!doc?.issuedMonth || ocr.issuedOn.startsWith(doc.issuedMonth)) ? ocr.issuedOn : null),
        totalMinor: doc?.totalMinor ?? ocr?.totalMinor ?? null,
        currency: doc?.currency ?? (ocr?.totalMinor !== undefined ? (ocr.currency ?? null) : null),
        fields: {
          ...(doc ? doc.fields : reading?.kind === 'invalid' ? { problem: reading.reason } : {}),
          ...(fromOcr ? ocrFields(ocr!, doc) : {}),
        },
        flags: evaluation.flags,
        confidence: evaluation.confidence,
        computedPoints: evaluation.computedPoints,
      },
      now,
    );
    if (evaluation.autoApprove) {
      const result = await atomically(tx, (sp) => approveIn(ctx, sp, { receiptId: r.id, actor: 'system:auto' })).catch((error) => {
        if (isUniqueViolation(error)) return { status: 'document_already_paid' } as const;
        if (error instanceof CampaignLimit) return { status: 'campaign_limit', limit: error.limit } as const;
        throw error;
      });
      if (result.status === 'campaign_limit' && result.limit === 'budget_exhausted' && ctx.campaigns && r.campaignId) {
        const c = await ctx.campaigns.get(r.campaignId, tx);
        if (c) await ctx.campaigns.budgetExhausted(tx, c);
      }
      if (result.status === 'approved') return { status: 'processed', receipt: result.receipt, autoApproved: true } as const;
    }
    await notifyReviewers(ctx, tx, saved!);
    return { status: 'processed', receipt: saved!, autoApproved: false } as const;
  });
}

/** The receipt keeps failing: a moderator looks at the photo instead of the worker retrying forever. */
async function setAside(ctx: ReceiptsContext, before: ReceiptRow, attempts: number, error: unknown): Promise<ProcessResult> {
  ctx.logger?.error({ err: error, receiptId: before.id, attempts }, 'receipt could not be read; set aside for a moderator');
  return withTransaction(ctx.sql, async (tx) => {
    const saved = await repo.setAside(tx, before.id, ['unreadable'], ctx.clock.now());
    if (!saved) return { status: 'skipped', reason: 'already_processed' } as const;
    await notifyReviewers(ctx, tx, saved);
    return { status: 'processed', receipt: saved, autoApproved: false } as const;
  });
}

/** What the review card and the API show of an OCR reading: which values came from it. */
function ocrFields(ocr: OcrFacts, doc: { totalMinor?: number; issuedOn?: string; sellerTaxId?: string } | undefined): Record<string, string> {
  const read: string[] = [];
  if (doc?.totalMinor === undefined && ocr.totalMinor !== undefined) read.push('total');
  if (!doc?.issuedOn && ocr.issuedOn) read.push('date');
  if (!doc?.sellerTaxId && ocr.sellerTaxId) read.push('seller');
  return {
    source: doc ? 'qr+ocr' : 'ocr',
    ocr: read.join(','),
    ...(ocr.unverifiedTaxId && !doc ? { ocrTaxIdUnverified: ocr.unverifiedTaxId } : {}),
  };
}

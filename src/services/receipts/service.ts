import type { Db, Sql } from '../../db/sql.js';
import { isUniqueViolation, withTransaction } from '../../db/sql.js';
import type postgres from 'postgres';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { sha256Hex } from '../../shared/ids.js';
import { AppError } from '../../shared/errors.js';
import type { Ledger } from '../ledger/index.js';
import type { ParticipantsService } from '../participants/index.js';
import type { EnqueueOutbound } from '../outbox/index.js';
import type { CampaignsService, AwardGate } from '../campaigns/index.js';
import {
  bestReading,
  evaluateReceipt,
  rawQrIsDistinctive,
  readReceiptText,
  ocrFoundSomething,
  ReceiptRules,
  StoredReceiptRules,
  type OcrFacts,
  weekStart,
  type QrReading,
  type ReceiptStatus,
  type RejectReason,
} from '../../domain/receipts/index.js';
import * as repo from '../../db/receipts/receipts-repo.js';
import type { ReceiptRow } from '../../db/receipts/receipts-repo.js';
import { checkImage, differenceHash, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image.js';
import { receiptMediaKey, type MediaStore } from './media-store.js';
import type { QrDecoder } from './qr-decoder.js';
import type { ReceiptOcr } from './ocr.js';
import { approvedNotice, rejectedNotice, reviewCard } from './messages.js';
import { audit } from '../../db/audit-repo.js';

/** How the service asks for a receipt to be read in the background (BullMQ in production). */
export interface ReceiptJobs {
  enqueue(receiptId: string): Promise<void>;
}

export interface ReceiptsDeps {
  sql: Sql;
  ledger: Ledger;
  participants: ParticipantsService;
  enqueueOutbound: EnqueueOutbound;
  media: MediaStore;
  decoder: QrDecoder;
  /** Reads the printed text when no fiscal QR gives the total or date (RECEIPT_OCR=on); absent = off. */
  ocr?: ReceiptOcr;
  clock?: Clock;
  logger?: Logger;
  limits?: Partial<ImageLimits>;
  /** Campaign caps and budget (task D): an approval reserves its points there, or is refused. */
  campaigns?: Pick<CampaignsService, 'get' | 'reserveAward' | 'budgetExhausted'>;
  /** Hamming distance (of 64 bits) at or below which two photos count as "looks the same". */
  similarDistance?: number;
  /**
   * Runs of the worker after which a receipt that still fails is set aside for a moderator
   * (flag `unreadable`) instead of being retried forever. Default 5 (one job's attempts).
   */
  maxAttempts?: number;
  /**
   * How long intake waits for the photo's download. Intake runs inside the message's transaction
   * (the flow API has no step before it), so a slow download holds the conversation's lock: this
   * bounds that time. Default 20 s.
   */
  downloadTimeoutMs?: number;
}

export type IntakeRefusal = 'too_large' | 'too_many_pixels' | 'too_small' | 'not_an_image' | 'corrupt' | 'download_failed';

/** A chat reviewer may not decide their own receipt, nor one of another program. */
export type ReviewRefusal = { status: 'not_allowed'; why: 'own_receipt' | 'other_program' };

/** Who decides from a chat: checked against the receipt (HTTP admins have no participant). */
export interface Reviewer {
  participantId: string;
  programId: string;
}

export type IntakeResult =
  | { status: 'accepted'; receipt: ReceiptRow }
  /** The same chat message again (platform retry): nothing new stored. */
  | { status: 'already_received'; receipt: ReceiptRow }
  | { status: 'refused'; reason: IntakeRefusal };

export interface IntakeInput {
  programId: string;
  participantId: string;
  role: string | null;
  /** `<channel>:<message id>`: one receipt per chat message. */
  sourceRef: string;
  media: { load(): Promise<Buffer>; size?: number };
  caption?: string | null;
}

export type ProcessResult =
  | { status: 'processed'; receipt: ReceiptRow; autoApproved: boolean }
  | { status: 'skipped'; reason: 'not_found' | 'already_processed' };

export type ApproveResult =
  | { status: 'approved'; receipt: ReceiptRow; balance: number }
  | { status: 'already_decided'; receipt: ReceiptRow }
  /** No points given and the rules could not compute any (total unreadable, no fixed points). */
  | { status: 'points_required'; receipt: ReceiptRow }
  /** Another receipt of the same fiscal document has been paid already. */
  | { status: 'document_already_paid'; receipt: ReceiptRow }
  /** The campaign's per-participant cap or its budget would be passed: nothing was credited. */
  | { status: 'campaign_limit'; limit: Exclude<AwardGate['status'], 'ok'>; receipt: ReceiptRow }
  | ReviewRefusal
  | { status: 'not_found' };

export type RejectResult =
  | { status: 'rejected'; receipt: ReceiptRow }
  | { status: 'already_decided'; receipt: ReceiptRow }
  | ReviewRefusal
  | { status: 'not_found' };

export interface ApproveInput {
  receiptId: string;
  /** Points to credit; default the computed points. */
  points?: number;
  /** `admin:<token name>`, `participant:<moderator id>`, `system:auto`. */
  actor: string;
  /** The chat moderator deciding: refused for their own receipt or another program's. */
  reviewer?: Reviewer;
}

export interface RejectInput {
  receiptId: string;
  reason?: RejectReason | null;
  note?: string | null;
  actor: string;
  reviewer?: Reviewer;
}

export interface ReceiptsService {
  /** Stores the photo and the receipt row on `db` (the message's transaction). Enqueue after commit. */
  intake(db: Db, input: IntakeInput): Promise<IntakeResult>;
  /** Reads the photo (QR, hash), flags duplicates, evaluates the rules; auto-approves or asks moderators. */
  process(receiptId: string): Promise<ProcessResult>;
  approve(input: ApproveInput, db?: Db): Promise<ApproveResult>;
  reject(input: RejectInput, db?: Db): Promise<RejectResult>;
  get(receiptId: string, db?: Db): Promise<ReceiptRow | null>;
  /** Pending/received lists are oldest first (page with `after`); others newest first (page with `before`). */
  list(query: { programId?: string; status?: ReceiptStatus; participantId?: string; limit?: number; before?: Date; after?: Date }): Promise<ReceiptRow[]>;
  image(receipt: Pick<ReceiptRow, 'mediaKey'>): Promise<Buffer | null>;
  setRules(campaignId: string, rules: unknown): Promise<ReceiptRules>;
  getRules(campaignId: string): Promise<ReceiptRules | null>;
  /**
   * Erasure of a participant: their receipt photos are deleted (unless another participant sent the
   * very same file) and what was read from them that can identify a person (buyer tax id, raw QR
   * text, caption) is cleared. Decisions, points and the document key stay, so a paid purchase
   * can still not be paid twice. Returns how many receipts were cleared. With `db` (the erasure's
   * transaction) the rows change with it; the files go at once, as the erasure asked.
   */
  forgetParticipant(participantId: string, db?: Db): Promise<number>;
  /** How many receipts are kept for a participant (for /mydata). */
  countOf(db: Db, participantId: string): Promise<number>;
  /** Receipts still unread after `olderThanMs` (a lost job, a flushed Redis): their ids, to enqueue again. */
  stale(olderThanMs: number): Promise<string[]>;
}

/** Thrown inside the approval's transaction so a partial cap reservation is rolled back with it. */
class CampaignLimit extends Error {
  constructor(
    readonly limit: Exclude<AwardGate['status'], 'ok'>,
    readonly receipt: ReceiptRow,
  ) {
    super(`campaign limit: ${limit}`);
  }
}

function reviewRefusal(receipt: ReceiptRow, reviewer: Reviewer | undefined): ReviewRefusal | null {
  if (!reviewer) return null;
  if (receipt.programId !== reviewer.programId) return { status: 'not_allowed', why: 'other_program' };
  if (receipt.participantId === reviewer.participantId) return { status: 'not_allowed', why: 'own_receipt' };
  return null;
}

/** A value read from a photo: NUL cannot be stored in Postgres text or jsonb. */
const storable = (text: string): string => text.replace(/\u0000/g, '');

/** Waits for `promise` at most `ms`; the download itself cannot be cancelled through MediaRef. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`photo download took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const isTransaction = (db: Db): db is postgres.TransactionSql<Record<string, unknown>> =>
  typeof (db as { savepoint?: unknown }).savepoint === 'function';

/** `YYYY-MM-DD` of an instant in a time zone. */
const localDate = (at: Date, timeZone: string): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);

export function createReceipts(deps: ReceiptsDeps): ReceiptsService {
  const { sql, ledger, participants, enqueueOutbound, media, decoder } = deps;
  const clock = deps.clock ?? systemClock;
  const limits = { ...DEFAULT_IMAGE_LIMITS, ...deps.limits };
  const similarDistance = deps.similarDistance ?? 4;
  const maxAttempts = deps.maxAttempts ?? 5;
  const downloadTimeoutMs = deps.downloadTimeoutMs ?? 20_000;
  // A turn retried after a deadlock calls intake again with the same media: download it once.
  const downloads = new WeakMap<object, Promise<Buffer>>();

  /** Runs `fn` in its own transaction, or in a savepoint of the caller's, so a unique violation can be answered. */
  const atomically = <T>(db: Db | undefined, fn: (tx: Db) => Promise<T>): Promise<T> => {
    if (db && isTransaction(db)) return db.savepoint((sp) => fn(sp)) as Promise<T>;
    return withTransaction(sql, (tx) => fn(tx));
  };

  async function notifyModerators(db: Db, receipt: ReceiptRow): Promise<void> {
    const [owner, program] = await Promise.all([
      participants.getById(db, receipt.participantId),
      participants.program(db, receipt.programId),
    ]);
    const moderators = await participants.withRole(db, 'moderator', receipt.programId);
    for (const m of moderators) {
      if (m.id === receipt.participantId) continue; // nobody reviews their own receipt
      if (!(await repo.recordReviewCard(db, receipt.id, m.id))) continue;
      await enqueueOutbound(db, {
        participantId: m.id,
        kind: 'notice',
        dedupeKey: `receipt:${receipt.id}:card:${m.id}`,
        message: (t, locale) => reviewCard(t, locale, receipt, { name: owner?.name ?? null, timeZone: program.timeZone }),
      });
    }
  }

  async function approveIn(tx: Db, input: ApproveInput): Promise<ApproveResult> {
    const current = await repo.getReceipt(tx, input.receiptId, { forUpdate: true });
    if (!current) return { status: 'not_found' };
    const refusal = reviewRefusal(current, input.reviewer);
    if (refusal) return refusal;
    if (current.status === 'approved' || current.status === 'rejected') return { status: 'already_decided', receipt: current };
    const points = input.points ?? current.computedPoints;
    if (points === null || points === undefined || points <= 0) return { status: 'points_required', receipt: current };
    if (current.documentKey) {
      const paid = await tx.unsafe(
        `select 1 from receipts where program_id = $1 and document_key = $2 and status = 'approved' limit 1`,
        [current.programId, current.documentKey],
      );
      if (paid.length > 0) return { status: 'document_already_paid', receipt: current };
    }
    if (current.campaignId && deps.campaigns) {
      const campaign = await deps.campaigns.get(current.campaignId, tx);
      if (campaign) {
        const gate = await deps.campaigns.reserveAward(tx, campaign, current.participantId, points);
        if (gate.status !== 'ok') throw new CampaignLimit(gate.status, current);
      }
    }
    const receipt = (await repo.decide(tx, current.id, { status: 'approved', points, by: input.actor }, clock.now()))!;
    // The key names the business operation: a retried or repeated approval can never pay twice.
    await ledger.earn(
      {
        programId: receipt.programId,
        participantId: receipt.participantId,
        amount: points,
        source: 'receipt',
        key: `receipt:${receipt.id}:approve`,
        campaignId: receipt.campaignId,
        reason: { key: 'receipts:ledger_reason', params: { ref: receipt.fields.G ?? receipt.fields.nNF ?? receipt.id.slice(0, 8) } },
        actor: input.actor,
      },
      tx,
    );
    const balance = await ledger.balance(receipt.programId, receipt.participantId, tx);
    await audit(tx, input.actor, 'receipt.approve', `receipt:${receipt.id}`, { points });
    await enqueueOutbound(tx, {
      participantId: receipt.participantId,
      kind: 'notice',
      dedupeKey: `receipt:${receipt.id}:decided`,
      message: (t) => approvedNotice(t, { points, balance: balance.available }),
    });
    return { status: 'approved', receipt, balance: balance.available };
  }

  /** OCR of the printed text in the participant's language; a failure only means "nothing read". */
  async function readText(receipt: ReceiptRow, bytes: Buffer): Promise<OcrFacts | null> {
    if (!deps.ocr) return null;
    try {
      const participant = await participants.getById(sql, receipt.participantId);
      const locale = participant ? await participants.locale(sql, participant) : 'pl';
      const started = Date.now();
      const text = await deps.ocr.read(bytes, locale);
      const facts = readReceiptText(text, locale);
      deps.logger?.info({ receiptId: receipt.id, ms: Date.now() - started, found: ocrFoundSomething(facts) }, 'receipt OCR done');
      return facts;
    } catch (error) {
      deps.logger?.warn({ err: error, receiptId: receipt.id }, 'receipt OCR failed');
      return null;
    }
  }

  async function processOnce(receiptId: string, before: ReceiptRow): Promise<ProcessResult> {
    // Slow work (decoding, hashing) happens outside any transaction.
    const bytes = await media.get(before.mediaKey);
    let texts: string[] = [];
    let dhash: string | null = null;
    if (bytes) {
      try {
        texts = (await decoder.decode(bytes)).map(storable);
      } catch (error) {
        deps.logger?.warn({ err: error, receiptId }, 'QR decoding failed');
      }
      dhash = await differenceHash(bytes).catch(() => null);
    } else {
      deps.logger?.error({ receiptId, mediaKey: before.mediaKey }, 'receipt photo missing from the media store');
    }
    const reading: QrReading | null = bestReading(texts);
    const doc = reading?.kind === 'fiscal' ? reading.document : undefined;
    const ocr = bytes && (!doc || doc.totalMinor === undefined || !doc.issuedOn) ? await readText(before, bytes) : null;
    const documentKey = doc
      ? doc.documentKey
      : reading?.kind === 'other' && rawQrIsDistinctive(reading.text)
        ? `qr:${sha256Hex(reading.text)}`
        : null;

    return withTransaction(sql, async (tx) => {
      const r = await repo.getReceipt(tx, receiptId, { forUpdate: true });
      if (!r || r.status !== 'received') return { status: 'skipped', reason: 'already_processed' } as const;
      // Two photos of one document processed at once must see each other: serialise on the key.
      if (documentKey) await tx.unsafe(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${r.programId}|${documentKey}`]);
      const now = clock.now();
      const timeZone = await repo.programTimeZone(tx, r.programId);
      const campaign = r.campaignId ? await repo.getRules(tx, r.campaignId) : null;
      const rules = campaign ? ReceiptRules.parse(campaign.rules) : null;
      const duplicates = {
        image: await repo.sameImageExists(tx, r),
        document: documentKey ? await repo.sameDocumentExists(tx, r.programId, documentKey, r.id) : false,
        similar: dhash
          ? await repo.similarImageExists(tx, { id: r.id, programId: r.programId, dhash, since: new Date(now.getTime() - 365 * 86_400_000) }, similarDistance)
          : false,
      };
      const receiptsThisWeek = await repo.countInWeek(tx, {
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
        const result = await atomically(tx, (sp) => approveIn(sp, { receiptId: r.id, actor: 'system:auto' })).catch((error) => {
          if (isUniqueViolation(error)) return { status: 'document_already_paid' } as const;
          if (error instanceof CampaignLimit) return { status: 'campaign_limit', limit: error.limit } as const;
          throw error;
        });
        if (result.status === 'campaign_limit' && result.limit === 'budget_exhausted' && deps.campaigns && r.campaignId) {
          const c = await deps.campaigns.get(r.campaignId, tx);
          if (c) await deps.campaigns.budgetExhausted(tx, c);
        }
        if (result.status === 'approved') return { status: 'processed', receipt: result.receipt, autoApproved: true } as const;
      }
      await notifyModerators(tx, saved!);
      return { status: 'processed', receipt: saved!, autoApproved: false } as const;
    });
  }

  /** The receipt keeps failing: a moderator looks at the photo instead of the worker retrying forever. */
  async function setAside(before: ReceiptRow, attempts: number, error: unknown): Promise<ProcessResult> {
    deps.logger?.error({ err: error, receiptId: before.id, attempts }, 'receipt could not be read; set aside for a moderator');
    return withTransaction(sql, async (tx) => {
      const saved = await repo.setAside(tx, before.id, ['unreadable'], clock.now());
      if (!saved) return { status: 'skipped', reason: 'already_processed' } as const;
      await notifyModerators(tx, saved);
      return { status: 'processed', receipt: saved, autoApproved: false } as const;
    });
  }

  const service: ReceiptsService = {
    async intake(db, input) {
      if (input.media.size !== undefined && input.media.size > limits.maxBytes) return { status: 'refused', reason: 'too_large' };
      let bytes: Buffer;
      try {
        let download = downloads.get(input.media);
        if (!download) {
          download = input.media.load();
          downloads.set(input.media, download);
        }
        bytes = await within(download, downloadTimeoutMs);
      } catch (error) {
        deps.logger?.warn({ err: error, sourceRef: input.sourceRef }, 'receipt photo could not be downloaded');
        return { status: 'refused', reason: 'download_failed' };
      }
      const check = await checkImage(bytes, limits);
      if (!check.ok) return { status: 'refused', reason: check.reason };
      const sha = sha256Hex(bytes);
      const mediaKey = receiptMediaKey(sha, check.ext);
      // Stored before the row: content-addressed, so a rolled-back intake leaves a reusable file only.
      await media.put(mediaKey, bytes);
      const campaign = await repo.findCampaignForReceipt(db, { programId: input.programId, at: clock.now(), role: input.role });
      const { receipt, created } = await repo.insertReceipt(db, {
        programId: input.programId,
        participantId: input.participantId,
        campaignId: campaign?.campaignId ?? null,
        sourceRef: input.sourceRef,
        mediaKey,
        mimeType: check.mimeType,
        width: check.width,
        height: check.height,
        byteSize: bytes.length,
        imageSha256: sha,
        caption: (input.caption && storable(input.caption).trim()) || null,
      });
      return created ? { status: 'accepted', receipt } : { status: 'already_received', receipt };
    },

    async process(receiptId) {
      const before = await repo.getReceipt(sql, receiptId);
      if (!before) return { status: 'skipped', reason: 'not_found' };
      if (before.status !== 'received') return { status: 'skipped', reason: 'already_processed' };
      const attempts = await repo.countAttempt(sql, receiptId);
      if (attempts === null) return { status: 'skipped', reason: 'already_processed' };
      // Past the limit without a recorded failure: an earlier run died with its process (OOM, crash).
      if (attempts > maxAttempts) return setAside(before, attempts, null);
      try {
        return await processOnce(receiptId, before);
      } catch (error) {
        if (attempts < maxAttempts) throw error;
        return setAside(before, attempts, error);
      }
    },

    async approve(input, db) {
      if (input.points !== undefined && (!Number.isSafeInteger(input.points) || input.points <= 0)) {
        throw new AppError('invalid_input', 'points must be a positive integer');
      }
      try {
        return await atomically(db, (tx) => approveIn(tx, input));
      } catch (error) {
        if (error instanceof CampaignLimit) {
          if (error.limit === 'budget_exhausted' && deps.campaigns && error.receipt.campaignId) {
            const campaign = await deps.campaigns.get(error.receipt.campaignId, db ?? sql);
            if (campaign) await atomically(db, (tx) => deps.campaigns!.budgetExhausted(tx, campaign));
          }
          return { status: 'campaign_limit', limit: error.limit, receipt: error.receipt };
        }
        // Two receipts of one document approved at the same instant: the index lets one through.
        if (isUniqueViolation(error)) {
          const receipt = await repo.getReceipt(db ?? sql, input.receiptId);
          if (receipt) return { status: 'document_already_paid', receipt };
        }
        throw error;
      }
    },

    async reject(input, db) {
      return atomically(db, async (tx) => {
        const current = await repo.getReceipt(tx, input.receiptId, { forUpdate: true });
        if (!current) return { status: 'not_found' } as const;
        const refusal = reviewRefusal(current, input.reviewer);
        if (refusal) return refusal;
        if (current.status === 'approved' || current.status === 'rejected') return { status: 'already_decided', receipt: current } as const;
        const reason = input.reason ?? null;
        const note = input.note?.trim() || null;
        const receipt = (await repo.decide(tx, current.id, { status: 'rejected', reason, note, by: input.actor }, clock.now()))!;
        await audit(tx, input.actor, 'receipt.reject', `receipt:${receipt.id}`, { reason, note });
        await enqueueOutbound(tx, {
          participantId: receipt.participantId,
          kind: 'notice',
          dedupeKey: `receipt:${receipt.id}:decided`,
          message: (t) => rejectedNotice(t, { reason, note }),
        });
        return { status: 'rejected', receipt } as const;
      });
    },

    get: (receiptId, db = sql) => repo.getReceipt(db, receiptId),
    list: (q) => repo.listReceipts(sql, { ...q, limit: Math.min(Math.max(q.limit ?? 50, 1), 200) }),
    image: (receipt) => media.get(receipt.mediaKey),

    async setRules(campaignId, raw) {
      const rules = ReceiptRules.parse(raw);
      const [campaign] = await sql.unsafe<Array<{ programId: string }>>(`select program_id from campaigns where id = $1`, [campaignId]);
      if (!campaign) throw new AppError('not_found', `Campaign ${campaignId} not found`);
      await repo.upsertRules(sql, campaign.programId, campaignId, rules);
      return rules;
    },
    async getRules(campaignId) {
      const row = await repo.getRules(sql, campaignId);
      return row ? StoredReceiptRules.parse(row.rules) : null;
    },
    countOf: (db, participantId) => repo.countReceiptsOf(db, participantId),

    async forgetParticipant(participantId, db = sql) {
      const rows = await db.unsafe<Array<{ mediaKey: string; shared: boolean }>>(
        `update receipts r set caption = null, qr_texts = '{}', fields = r.fields - 'B' - 'S' - 'ocrTaxIdUnverified'
         where participant_id = $1
         returning media_key, exists (select 1 from receipts o where o.media_key = r.media_key and o.participant_id <> $1) as shared`,
        [participantId],
      );
      for (const key of new Set(rows.filter((r) => !r.shared).map((r) => r.mediaKey))) await media.delete(key);
      return rows.length;
    },
    stale: (olderThanMs) => repo.staleReceived(sql, olderThanMs),
  };
  return service;
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

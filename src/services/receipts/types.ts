/** The receipts service's contract: its dependencies, inputs and outcomes. */
import type { Db, Sql } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Ledger } from '../ledger/index.js';
import type { ParticipantsService } from '../participants/index.js';
import type { EnqueueOutbound } from '../outbox/index.js';
import type { CampaignsService, AwardGate } from '../campaigns/index.js';
import type { ReceiptRules, ReceiptStatus, RejectReason } from '../../domain/receipts/index.js';
import type { ReceiptRow } from '../../db/receipts/receipts-repo.js';
import type { ImageLimits } from './image.js';
import type { MediaStore } from './media-store.js';
import type { QrDecoder } from './qr-decoder.js';
import type { ReceiptOcr } from './ocr.js';

export type { ReceiptRow };

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
  /** Campaign caps and budget: an approval reserves its points there, or is refused. */
  campaigns?: Pick<CampaignsService, 'get' | 'reserveAward' | 'budgetExhausted'>;
  /** Hamming distance (of 64 bits) at or below which two photos count as "looks the same". */
  similarDistance?: number;
  /**
   * Runs of the worker after which a receipt that still fails is set aside for a moderator
   * (flag `unreadable`) instead of being retried forever. Default 5 (one job's attempts).
   */
  maxAttempts?: number;
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
  /** On `db`: a transaction decides in a savepoint of it, the pool in a transaction of its own. */
  approve(db: Db, input: ApproveInput): Promise<ApproveResult>;
  reject(db: Db, input: RejectInput): Promise<RejectResult>;
  get(db: Db, receiptId: string): Promise<ReceiptRow | null>;
  /** Pending/received lists are oldest first (page with `after`); others newest first (page with `before`). */
  list(query: { programId?: string; status?: ReceiptStatus; participantId?: string; limit?: number; before?: Date; after?: Date }): Promise<ReceiptRow[]>;
  image(receipt: Pick<ReceiptRow, 'mediaKey'>): Promise<Buffer | null>;
  setRules(campaignId: string, rules: unknown): Promise<ReceiptRules>;
  getRules(campaignId: string): Promise<ReceiptRules | null>;
  /**
   * Erasure of a participant: their receipt photos are deleted (unless another participant sent the
   * very same file) and what was read from them that can identify a person (buyer tax id, raw QR
   * text, caption) is cleared. Decisions, points and the document key stay, so a paid purchase
   * can still not be paid twice. Returns how many receipts were cleared. The rows change with `db`
   * (the erasure's transaction); the files go at once, as the erasure asked.
   */
  forgetParticipant(db: Db, participantId: string): Promise<number>;
  /** How many receipts are kept for a participant (for /mydata). */
  countOf(db: Db, participantId: string): Promise<number>;
  /** Receipts still unread after `olderThanMs` (a lost job, a flushed Redis): their ids, to enqueue again. */
  stale(olderThanMs: number): Promise<string[]>;
}


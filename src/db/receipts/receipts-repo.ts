import type { Db } from '../sql.js';
import type { ReceiptFlag, ReceiptRules, ReceiptStatus, RejectReason } from '../../domain/receipts/index.js';

/** A receipts row as the rest of the code sees it (camelCase from postgres.camel). */
export interface ReceiptRow {
  id: string;
  programId: string;
  participantId: string;
  campaignId: string | null;
  sourceRef: string;
  status: ReceiptStatus;
  mediaKey: string;
  mimeType: string;
  width: number;
  height: number;
  byteSize: number;
  imageSha256: string;
  imageDhash: string | null;
  caption: string | null;
  qrTexts: string[];
  reading: string | null;
  documentKey: string | null;
  sellerTaxId: string | null;
  issuedOn: string | null;
  totalMinor: number | null;
  currency: string | null;
  fields: Record<string, string>;
  flags: ReceiptFlag[];
  confidence: number | null;
  computedPoints: number | null;
  points: number | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  rejectReason: RejectReason | null;
  rejectNote: string | null;
  processedAt: Date | null;
  createdAt: Date;
}

// issued_on comes back as text so a date never shifts by a time zone on its way to JS.
const COLUMNS = `id, program_id, participant_id, campaign_id, source_ref, status, media_key, mime_type, width, height,
  byte_size, image_sha256, image_dhash::text as image_dhash, caption, qr_texts, reading, document_key, seller_tax_id,
  issued_on::text as issued_on, total_minor, currency, fields, flags, confidence, computed_points, points, decided_by,
  decided_at, reject_reason, reject_note, processed_at, created_at`;

export interface NewReceipt {
  programId: string;
  participantId: string;
  campaignId: string | null;
  sourceRef: string;
  mediaKey: string;
  mimeType: string;
  width: number;
  height: number;
  byteSize: number;
  imageSha256: string;
  caption: string | null;
}

/** Inserts; a second insert for the same message returns the first row (`created: false`). */
export async function insertReceipt(db: Db, r: NewReceipt): Promise<{ receipt: ReceiptRow; created: boolean }> {
  const [row] = await db.unsafe<ReceiptRow[]>(
    `insert into receipts (program_id, participant_id, campaign_id, source_ref, media_key, mime_type, width, height,
       byte_size, image_sha256, caption)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     on conflict (program_id, source_ref) do nothing
     returning ${COLUMNS}`,
    [r.programId, r.participantId, r.campaignId, r.sourceRef, r.mediaKey, r.mimeType, r.width, r.height, r.byteSize,
      r.imageSha256, r.caption],
  );
  if (row) return { receipt: row, created: true };
  const [existing] = await db.unsafe<ReceiptRow[]>(
    `select ${COLUMNS} from receipts where program_id = $1 and source_ref = $2`,
    [r.programId, r.sourceRef],
  );
  return { receipt: existing!, created: false };
}

export async function getReceipt(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<ReceiptRow | null> {
  const [row] = await db.unsafe<ReceiptRow[]>(
    `select ${COLUMNS} from receipts where id = $1${options.forUpdate ? ' for update' : ''}`,
    [id],
  );
  return row ?? null;
}

/** What processing a photo writes: the row's reading fields, with a reading and a confidence always set. */
export type ProcessedFields = Pick<
  ReceiptRow,
  'imageDhash' | 'qrTexts' | 'documentKey' | 'sellerTaxId' | 'issuedOn' | 'totalMinor' | 'currency' | 'fields' | 'flags' | 'computedPoints'
> & { reading: string; confidence: number };

/** Stores what the worker read; only a receipt still `received` moves on (a re-run does nothing). */
export async function saveProcessed(db: Db, id: string, p: ProcessedFields, at: Date): Promise<ReceiptRow | null> {
  const [row] = await db.unsafe<ReceiptRow[]>(
    `update receipts set status = 'pending', image_dhash = $2::bit(64), qr_texts = $3, reading = $4, document_key = $5,
       seller_tax_id = $6, issued_on = $7::date, total_minor = $8, currency = $9, fields = $10::jsonb, flags = $11,
       confidence = $12, computed_points = $13, processed_at = $14
     where id = $1 and status = 'received'
     returning ${COLUMNS}`,
    [id, p.imageDhash, p.qrTexts, p.reading, p.documentKey, p.sellerTaxId, p.issuedOn, p.totalMinor, p.currency,
      p.fields, p.flags, p.confidence, p.computedPoints, at] as never[],
  );
  return row ?? null;
}

/**
 * Counts one more run of the worker on a receipt still `received` and returns the new count, or
 * null when it is gone or already read. Committed on its own, so a run that fails still counts.
 */
export async function countAttempt(db: Db, id: string): Promise<number | null> {
  const [row] = await db.unsafe<Array<{ processAttempts: number }>>(
    `update receipts set process_attempts = process_attempts + 1 where id = $1 and status = 'received'
     returning process_attempts`,
    [id],
  );
  return row?.processAttempts ?? null;
}

/**
 * A receipt that could not be read however often it was tried: pending with only the given flags,
 * nothing read from it stored (what was read may be what broke the save).
 */
export async function setAside(db: Db, id: string, flags: ReceiptFlag[], at: Date): Promise<ReceiptRow | null> {
  const [row] = await db.unsafe<ReceiptRow[]>(
    `update receipts set status = 'pending', reading = 'none', flags = $2, confidence = 0, computed_points = null,
       processed_at = $3
     where id = $1 and status = 'received'
     returning ${COLUMNS}`,
    [id, flags, at] as never[],
  );
  return row ?? null;
}

/** Another receipt of the program, sent before this one, with the very same image bytes. */
export async function sameImageExists(db: Db, r: Pick<ReceiptRow, 'id' | 'programId' | 'imageSha256' | 'createdAt'>): Promise<boolean> {
  const rows = await db.unsafe(
    `select 1 from receipts where program_id = $1 and image_sha256 = $2 and id <> $3
       and (created_at, id) < ($4, $3) limit 1`,
    [r.programId, r.imageSha256, r.id, r.createdAt] as never[],
  );
  return rows.length > 0;
}

/** The same fiscal document already submitted by anyone and not rejected. */
export async function sameDocumentExists(db: Db, programId: string, documentKey: string, excludeId: string): Promise<boolean> {
  const rows = await db.unsafe(
    `select 1 from receipts where program_id = $1 and document_key = $2 and id <> $3 and status <> 'rejected' limit 1`,
    [programId, documentKey, excludeId],
  );
  return rows.length > 0;
}

/**
 * A photo whose difference hash is within `maxDistance` bits of this one. A scan over the
 * program's recent receipts: fine for thousands a month; an index (e.g. bk-tree) is for later.
 */
export async function similarImageExists(
  db: Db,
  r: { id: string; programId: string; dhash: string; since: Date },
  maxDistance: number,
): Promise<boolean> {
  const rows = await db.unsafe(
    `select 1 from receipts where program_id = $1 and id <> $2 and image_dhash is not null and created_at >= $4
       and bit_count(image_dhash # $3::bit(64)) <= $5 limit 1`,
    [r.programId, r.id, r.dhash, r.since, maxDistance] as never[],
  );
  return rows.length > 0;
}

/** Receipts of a participant, not rejected, sent in the week starting `weekStart` (program time zone). */
export async function countInWeek(
  db: Db,
  r: { participantId: string; excludeId: string; weekStart: string; timeZone: string },
): Promise<number> {
  const [row] = await db.unsafe<Array<{ n: number }>>(
    `select count(*)::int as n from receipts where participant_id = $1 and id <> $2 and status <> 'rejected'
       and (created_at at time zone $4)::date >= $3::date and (created_at at time zone $4)::date < $3::date + 7`,
    [r.participantId, r.excludeId, r.weekStart, r.timeZone],
  );
  return row?.n ?? 0;
}

export type Decision =
  | { status: 'approved'; points: number; by: string }
  | { status: 'rejected'; reason: RejectReason | null; note: string | null; by: string };

/**
 * Records a decision if nobody decided first. The row lock makes a second concurrent decision
 * wait and then find the status already final: it gets null and changes nothing.
 */
export async function decide(db: Db, id: string, d: Decision, at: Date): Promise<ReceiptRow | null> {
  const [row] =
    d.status === 'approved'
      ? await db.unsafe<ReceiptRow[]>(
          `update receipts set status = 'approved', points = $2, decided_by = $3, decided_at = $4
           where id = $1 and status in ('received', 'pending') returning ${COLUMNS}`,
          [id, d.points, d.by, at] as never[],
        )
      : await db.unsafe<ReceiptRow[]>(
          `update receipts set status = 'rejected', reject_reason = $2, reject_note = $3, decided_by = $4, decided_at = $5
           where id = $1 and status in ('received', 'pending') returning ${COLUMNS}`,
          [id, d.reason, d.note, d.by, at] as never[],
        );
  return row ?? null;
}

export async function listReceipts(
  db: Db,
  q: { programId?: string; status?: ReceiptStatus; participantId?: string; limit: number; before?: Date; after?: Date },
): Promise<ReceiptRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, value: unknown) => {
    params.push(value);
    where.push(cond.replace('?', `$${params.length}`));
  };
  if (q.programId) add('program_id = ?', q.programId);
  if (q.status) add('status = ?', q.status);
  if (q.participantId) add('participant_id = ?', q.participantId);
  if (q.before) add('created_at < ?', q.before);
  if (q.after) add('created_at > ?', q.after);
  params.push(q.limit);
  // Oldest first for the review queue (fair, first come first served); newest first otherwise.
  const order = q.status === 'pending' || q.status === 'received' ? 'asc' : 'desc';
  return db.unsafe<ReceiptRow[]>(
    `select ${COLUMNS} from receipts ${where.length ? `where ${where.join(' and ')}` : ''}
     order by created_at ${order}, id limit $${params.length}`,
    params as never[],
  );
}

/** Receipts the worker has not read yet and that waited longer than `olderThanMs` (database time, like created_at). */
export async function staleReceived(db: Db, olderThanMs: number, limit = 100): Promise<string[]> {
  const rows = await db.unsafe<Array<{ id: string }>>(
    `select id from receipts where status = 'received' and created_at <= now() - make_interval(secs => $1::float8 / 1000)
     order by created_at limit $2`,
    [olderThanMs, limit] as never[],
  );
  return rows.map((r) => r.id);
}

// ---- campaign receipt rules ----

export interface CampaignForReceipt {
  campaignId: string;
  programId: string;
  startsAt: Date;
  endsAt: Date;
  rules: ReceiptRules;
}

export async function getRules(db: Db, campaignId: string): Promise<CampaignForReceipt | null> {
  const [row] = await db.unsafe<CampaignForReceipt[]>(
    `select c.id as campaign_id, c.program_id, c.starts_at, c.ends_at, r.rules
     from campaign_receipt_rules r join campaigns c on c.id = r.campaign_id where r.campaign_id = $1`,
    [campaignId],
  );
  return row ?? null;
}

export async function upsertRules(db: Db, programId: string, campaignId: string, rules: ReceiptRules): Promise<void> {
  await db.unsafe(
    `insert into campaign_receipt_rules (campaign_id, program_id, rules) values ($1, $2, $3::jsonb)
     on conflict (campaign_id) do update set rules = excluded.rules, updated_at = now()`,
    [campaignId, programId, rules] as never[],
  );
}

/**
 * The campaign a receipt sent now counts for: running (not a draft), taking receipts, open to the
 * participant's role; the most recently started wins when several run at once.
 */
export async function findCampaignForReceipt(
  db: Db,
  q: { programId: string; at: Date; role: string | null },
): Promise<CampaignForReceipt | null> {
  const [row] = await db.unsafe<CampaignForReceipt[]>(
    `select c.id as campaign_id, c.program_id, c.starts_at, c.ends_at, r.rules
     from campaigns c join campaign_receipt_rules r on r.campaign_id = c.id
     where c.program_id = $1 and c.status <> 'draft' and c.starts_at <= $2 and c.ends_at > $2
       and (cardinality(c.audience_roles) = 0 or $3::text = any (c.audience_roles))
     order by c.starts_at desc, c.created_at desc, c.id limit 1`,
    [q.programId, q.at, q.role] as never[],
  );
  return row ?? null;
}

// ---- review cards ----

export async function recordReviewCard(db: Db, receiptId: string, moderatorId: string): Promise<boolean> {
  const rows = await db.unsafe(
    `insert into receipt_review_cards (receipt_id, moderator_id) values ($1, $2) on conflict do nothing returning 1`,
    [receiptId, moderatorId],
  );
  return rows.length > 0;
}

export async function reviewCardModerators(db: Db, receiptId: string): Promise<string[]> {
  const rows = await db.unsafe<Array<{ moderatorId: string }>>(
    `select moderator_id from receipt_review_cards where receipt_id = $1`,
    [receiptId],
  );
  return rows.map((r) => r.moderatorId);
}

export async function programTimeZone(db: Db, programId: string): Promise<string> {
  const [row] = await db.unsafe<Array<{ timeZone: string }>>(`select time_zone from programs where id = $1`, [programId]);
  return row?.timeZone ?? 'Europe/Warsaw';
}

export async function countReceiptsOf(db: Db, participantId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from receipts where participant_id = ${participantId}`;
  return row?.n ?? 0;
}

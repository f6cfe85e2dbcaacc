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

export async function countReceiptsOf(db: Db, participantId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from receipts where participant_id = ${participantId}`;
  return row?.n ?? 0;
}

/**
 * Erasure: what was read from a participant's receipts that can identify a person (buyer tax id,
 * raw QR text, caption) is cleared; decisions, points and the document key stay. Answers each
 * receipt's photo and whether another participant's receipt has the very same file.
 */
export async function forgetReceiptsOf(db: Db, participantId: string): Promise<Array<{ mediaKey: string; shared: boolean }>> {
  return db.unsafe<Array<{ mediaKey: string; shared: boolean }>>(
    `update receipts r set caption = null, qr_texts = '{}', fields = r.fields - 'B' - 'S' - 'ocrTaxIdUnverified'
     where participant_id = $1
     returning media_key, exists (select 1 from receipts o where o.media_key = r.media_key and o.participant_id <> $1) as shared`,
    [participantId],
  );
}

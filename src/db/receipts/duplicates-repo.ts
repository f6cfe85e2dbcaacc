/** The duplicate signals of a receipt: same bytes, same fiscal document, a similar photo, receipts this week. */
import type { Db } from '../sql.js';
import type { ReceiptRow } from './receipts-repo.js';

/** Two photos of one document processed at once must see each other: serialises them until commit. */
export async function lockDocument(db: Db, programId: string, documentKey: string): Promise<void> {
  await db.unsafe(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${programId}|${documentKey}`]);
}

/** Another receipt of the same fiscal document has been paid already. */
export async function documentPaid(db: Db, programId: string, documentKey: string): Promise<boolean> {
  const rows = await db.unsafe(
    `select 1 from receipts where program_id = $1 and document_key = $2 and status = 'approved' limit 1`,
    [programId, documentKey],
  );
  return rows.length > 0;
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

/** SQL for code batches, codes, redemptions, guesses and lockouts. */
import { TAKE_USE, takeUseParams, type CodeUse } from './take-use.js';
import type { BatchedStatement } from '../batched.js';
import type { Db, Sql } from '../sql.js';

export interface BatchRow {
  id: string;
  programId: string;
  campaignId: string;
  source: 'generated' | 'imported';
  label: string | null;
  points: number;
  prefix: string;
  length: number;
  expiresAt: Date | null;
  usesPerCode: number;
  audienceRole: string | null;
  codeCount: number;
  createdBy: string;
  createdAt: Date;
}

export async function insertBatch(
  db: Db,
  b: Omit<BatchRow, 'id' | 'createdAt' | 'codeCount'>,
): Promise<BatchRow> {
  const [row] = await db<BatchRow[]>`
    insert into code_batches (program_id, campaign_id, source, label, points, prefix, length, expires_at, uses_per_code,
      audience_role, created_by)
    values (${b.programId}, ${b.campaignId}, ${b.source}, ${b.label}, ${b.points}, ${b.prefix}, ${b.length},
      ${b.expiresAt}, ${b.usesPerCode}, ${b.audienceRole}, ${b.createdBy})
    returning *`;
  return row!;
}

export async function setBatchCount(db: Db, batchId: string, count: number): Promise<void> {
  await db`update code_batches set code_count = ${count} where id = ${batchId}`;
}

/** The shortest and longest code of an imported batch (its codes carry no check symbol). */
export async function setImportedLengths(db: Db, batchId: string, min: number | null, max: number | null): Promise<void> {
  await db`update code_batches set min_code_length = ${min}, max_code_length = ${max} where id = ${batchId}`;
}

/**
 * Whether the program has an imported batch whose codes may be `length` symbols long: an unknown
 * code of that length may be a guess at one of them, whatever its check symbol says.
 */
export async function importedLengthExists(db: Db, programId: string, length: number): Promise<boolean> {
  const rows = await db`
    select 1 from code_batches
     where program_id = ${programId} and source = 'imported'
       and (min_code_length is null or ${length}::int between min_code_length and max_code_length)
     limit 1`;
  return rows.length > 0;
}

export async function getBatch(db: Db, id: string): Promise<BatchRow | undefined> {
  const [row] = await db<BatchRow[]>`select * from code_batches where id = ${id}`;
  return row;
}

export async function listBatches(db: Db, campaignId: string): Promise<BatchRow[]> {
  return db<BatchRow[]>`select * from code_batches where campaign_id = ${campaignId} order by created_at`;
}

/**
 * Inserts hashes for a batch through COPY into a temporary table, then into `codes`, skipping
 * any hash that already exists. Returns the hashes (hex) that were NOT inserted, so the caller
 * can replace them; must run inside a transaction.
 */
export async function copyHashes(tx: Db, batchId: string, maxUses: number, hashesHex: string[]): Promise<Set<string>> {
  await tx`create temp table if not exists code_staging (hash bytea not null) on commit drop`;
  await tx`truncate code_staging`;
  const writable = await (tx as Sql)`copy code_staging (hash) from stdin`.writable();
  const CHUNK = 20_000;
  for (let i = 0; i < hashesHex.length; i += CHUNK) {
    const text = hashesHex
      .slice(i, i + CHUNK)
      .map((h) => `\\\\x${h}\n`)
      .join('');
    if (!writable.write(text)) await new Promise((r) => writable.once('drain', r));
  }
  await new Promise<void>((resolve, reject) => {
    writable.once('error', reject);
    writable.once('finish', resolve);
    writable.end();
  });
  const inserted = await tx`
    insert into codes (batch_id, hash, max_uses)
    select ${batchId}, hash, ${maxUses} from code_staging
    on conflict (hash) do nothing`;
  if (inserted.count === hashesHex.length) return new Set();
  const missing = await tx<{ hex: string }[]>`
    select encode(s.hash, 'hex') as hex from code_staging s
    where not exists (select 1 from codes c where c.hash = s.hash and c.batch_id = ${batchId})`;
  return new Set(missing.map((m) => m.hex));
}

export interface CodeLookup {
  codeId: number;
  uses: number;
  maxUses: number;
  lastUsedAt: Date | null;
  batchId: string;
  campaignId: string;
  points: number;
  expiresAt: Date | null;
  audienceRole: string | null;
}

/** A code and its batch as `CodeLookup` (aliases c and b). */
const CODE_COLS = `c.id as code_id, c.uses, c.max_uses, c.last_used_at, b.id as batch_id, b.campaign_id, b.points,
  b.expires_at, b.audience_role`;

export async function findByHash(db: Db, hash: Buffer): Promise<CodeLookup | undefined> {
  const [row] = await db<CodeLookup[]>`
    select ${db.unsafe(CODE_COLS)}
    from codes c join code_batches b on b.id = c.batch_id
    where c.hash = ${hash}`;
  return row;
}

export interface LookupInput {
  hash: Buffer;
  /** Lockout subjects (participant, chat identity): the lookup says whether any is locked at `now`. */
  subjects: string[];
  now: Date;
}

export interface LookupResult {
  lockedUntil: Date | null;
  found: CodeLookup | undefined;
  /** The campaign's `updated_at` in microseconds, which every change of its definition sets. */
  campaignVersion: number | null;
}

type LookupRow = CodeLookup & { lockedUntil: Date | null; campaignVersion: number | null };

const lookupResult = (row: LookupRow | undefined): LookupResult => ({
  lockedUntil: row?.lockedUntil ?? null,
  found: row?.codeId ? row : undefined,
  campaignVersion: row?.campaignVersion ?? null,
});

/**
 * What redeeming a code needs first, in one statement: the code and its batch, whether any of the
 * subjects is locked out, and which version of the campaign applies (the caller keeps the campaigns
 * it has read and reads one again only when the version differs: services/codes/campaign-cache.ts).
 * A batch of messages looks all its codes up in one statement (batched.ts).
 */
export const lookup: BatchedStatement<LookupInput, LookupResult> = {
  async one(db, { hash, subjects, now }) {
    const [row] = await db.unsafe<LookupRow[]>(
      `select l.locked_until, ${CODE_COLS}, (extract(epoch from k.updated_at) * 1000000)::int8 as campaign_version
       from (select max(until) as locked_until from code_lockouts where subject = any($1::text[]) and until > $2) l
       left join codes c on c.hash = $3
       left join code_batches b on b.id = c.batch_id
       left join campaigns k on k.id = b.campaign_id`,
      [subjects, now, hash] as never[],
      { prepare: true },
    );
    return lookupResult(row);
  },

  async many(db, items) {
    const subjects: string[] = [];
    const owners: number[] = [];
    items.forEach((item, i) => {
      for (const s of item.subjects) {
        subjects.push(s);
        owners.push(i + 1);
      }
    });
    const rows = await db.unsafe<Array<LookupRow & { ord: number }>>(
      `select i.ord::int,
              (select max(l.until) from unnest($3::text[], $4::int[]) as s(subject, ord)
                 join code_lockouts l on l.subject = s.subject
                where s.ord = i.ord and l.until > i.now) as locked_until,
              ${CODE_COLS}, (extract(epoch from k.updated_at) * 1000000)::int8 as campaign_version
       from unnest($1::text[], $2::timestamptz[]) with ordinality as i(hash, now, ord)
       left join codes c on c.hash = decode(i.hash, 'hex')
       left join code_batches b on b.id = c.batch_id
       left join campaigns k on k.id = b.campaign_id`,
      // hex: the client would declare an array of buffers as one bytea
      [items.map((i) => i.hash.toString('hex')), items.map((i) => i.now.toISOString()), subjects, owners] as never[],
      { prepare: true },
    );
    const byOrd = new Map(rows.map(({ ord, ...row }) => [ord, row]));
    return items.map((_, i) => lookupResult(byOrd.get(i + 1)));
  },
};

/** Takes one use of the code and records the redemption in one statement; false when no use is left. */
export async function takeAndRecord(db: Db, use: CodeUse): Promise<boolean> {
  const rows = await db.unsafe(`with ${TAKE_USE} select id from recorded`, takeUseParams(use) as never[], { prepare: true });
  return rows.length > 0;
}

/** Takes one use of the code; undefined when none is left (row lock: concurrent takers queue here). */
export async function takeUse(db: Db, codeId: number, at: Date): Promise<boolean> {
  const rows = await db`
    update codes set uses = uses + 1, last_used_at = ${at}
    where id = ${codeId} and uses < max_uses returning id`;
  return rows.length > 0;
}

export async function redemptionOf(db: Db, codeId: number, participantId: string): Promise<Date | undefined> {
  const [row] = await db<{ redeemedAt: Date }[]>`
    select redeemed_at from code_redemptions where code_id = ${codeId} and participant_id = ${participantId}`;
  return row?.redeemedAt;
}

export async function insertRedemption(
  db: Db,
  r: { codeId: number; participantId: string; campaignId: string; points: number; channel: string | null; at: Date },
): Promise<void> {
  await db`
    insert into code_redemptions (code_id, participant_id, campaign_id, points, channel, redeemed_at)
    values (${r.codeId}, ${r.participantId}, ${r.campaignId}, ${r.points}, ${r.channel}, ${r.at})`;
}

export async function batchStats(db: Db, batchId: string) {
  const [row] = await db<{ total: number; used: number; exhausted: number; redemptions: number; points: number }[]>`
    select
      (select count(*) from codes where batch_id = ${batchId})::int as total,
      (select count(*) from codes where batch_id = ${batchId} and uses > 0)::int as used,
      (select count(*) from codes where batch_id = ${batchId} and uses >= max_uses)::int as exhausted,
      (select count(*) from code_redemptions r join codes c on c.id = r.code_id where c.batch_id = ${batchId})::int as redemptions,
      (select coalesce(sum(r.points), 0) from code_redemptions r join codes c on c.id = r.code_id
        where c.batch_id = ${batchId})::int as points`;
  return row!;
}

export async function usedCodes(db: Db, batchId: string, limit: number, afterId: number) {
  return db<{ redemptionId: number; codeId: number; participantId: string; points: number; channel: string | null; redeemedAt: Date }[]>`
    select r.id as redemption_id, r.code_id, r.participant_id, r.points, r.channel, r.redeemed_at
    from code_redemptions r join codes c on c.id = r.code_id
    where c.batch_id = ${batchId} and r.id > ${afterId}
    order by r.id limit ${limit}`;
}

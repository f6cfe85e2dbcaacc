/**
 * Code batches: generated (random bodies with Punkto's check symbol, replaced on collision until
 * the count is in) or imported (pre-printed codes, as given). Codes are stored only as keyed hashes;
 * a generated batch's codes are shown once, in the answer that creates it.
 */
import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { Db, Sql } from '../../db/sql.js';
import * as repo from '../../db/codes/repo.js';
import { getCampaign } from '../../db/campaigns/repo.js';
import { audit } from '../../db/audit-repo.js';
import { bodiesFromBytes, formatCode, normalizeCode } from '../../domain/codes/code-format.js';
import type { CodeBatchInput } from '../../domain/campaigns/rules-schema.js';
import { AppError } from '../../shared/errors.js';
import type { CodeHasher } from './code-secret.js';

const DEFAULT_LENGTH = 8;

/** The shortest and longest imported code taken. */
export const IMPORTED_MIN_LENGTH = 4;
export const IMPORTED_MAX_LENGTH = 64;

export interface BatchCreated {
  batch: repo.BatchRow;
  /** Formatted (`K7QM-3XW9-T`): shown only in this answer. */
  codes: string[];
}

export type ImportInput = Omit<CodeBatchInput, 'count' | 'prefix' | 'length'> & { codes: string[] };

export interface BatchImported {
  batch: repo.BatchRow;
  imported: number;
  duplicates: string[];
  invalid: string[];
}

async function campaignOr404(db: Db, id: string) {
  const c = await getCampaign(db, id);
  if (!c) throw new AppError('not_found', 'No such campaign');
  if (c.status === 'ended') throw new AppError('conflict', 'The campaign has ended');
  return c;
}

/** The batch row both kinds insert: what differs is the source and the generated shape. */
function newBatch(
  programId: string,
  campaignId: string,
  input: Omit<CodeBatchInput, 'count'>,
  shape: { source: 'generated' | 'imported'; prefix: string; length: number },
  actor: string,
): Omit<repo.BatchRow, 'id' | 'createdAt' | 'codeCount'> {
  return {
    programId,
    campaignId,
    ...shape,
    label: input.label ?? null,
    points: input.points,
    expiresAt: input.expiresAt ?? null,
    usesPerCode: input.usesPerCode ?? 1,
    audienceRole: input.audienceRole ?? null,
    createdBy: actor,
  };
}

export function createBatches(deps: { sql: Sql; hash: CodeHasher }) {
  const { sql, hash } = deps;

  /** Inserts the codes' hashes; answers which went in and which another code already had. */
  async function insertCodes(
    tx: postgres.TransactionSql,
    batchId: string,
    usesPerCode: number,
    canonicals: string[],
  ): Promise<{ inserted: string[]; rejected: string[] }> {
    const hexes = canonicals.map((c) => hash(c).toString('hex'));
    const missing = await repo.copyHashes(tx, batchId, usesPerCode, hexes);
    if (!missing.size) return { inserted: canonicals, rejected: [] };
    const inserted: string[] = [];
    const rejected: string[] = [];
    canonicals.forEach((c, i) => (missing.has(hexes[i]!) ? rejected : inserted).push(c));
    return { inserted, rejected };
  }

  return {
    async createBatch(campaignId: string, input: CodeBatchInput, actor: string): Promise<BatchCreated> {
      const length = input.length ?? DEFAULT_LENGTH;
      const prefix = input.prefix ?? '';
      return sql.begin(async (tx) => {
        const c = await campaignOr404(tx, campaignId);
        const batch = await repo.insertBatch(tx, newBatch(c.programId, campaignId, input, { source: 'generated', prefix, length }, actor));
        const all: string[] = [];
        let need = input.count;
        // Collisions (within the batch, or with any earlier code) are replaced until `count` are in.
        for (let round = 0; need > 0; round++) {
          if (round > 20) throw new AppError('conflict', 'Could not generate unique codes: use a longer length or another prefix');
          const fresh = [...new Set(bodiesFromBytes(randomBytes(need * length), need, length, prefix))];
          const { inserted } = await insertCodes(tx, batch.id, batch.usesPerCode, fresh);
          for (const code of inserted) all.push(code);
          need = input.count - all.length;
        }
        await repo.setBatchCount(tx, batch.id, all.length);
        await audit(tx, actor, 'code_batch.create', `code_batch:${batch.id}`, { count: all.length, points: input.points, campaignId });
        return { batch: { ...batch, codeCount: all.length }, codes: all.map(formatCode) };
      });
    },

    async importBatch(campaignId: string, input: ImportInput, actor: string): Promise<BatchImported> {
      return sql.begin(async (tx) => {
        const c = await campaignOr404(tx, campaignId);
        const invalid: string[] = [];
        const unique = new Map<string, string>();
        const duplicates: string[] = [];
        for (const raw of input.codes) {
          const canonical = normalizeCode(raw);
          if (!canonical || canonical.length < IMPORTED_MIN_LENGTH || canonical.length > IMPORTED_MAX_LENGTH) invalid.push(raw);
          else if (unique.has(canonical)) duplicates.push(raw);
          else unique.set(canonical, raw);
        }
        const batch = await repo.insertBatch(tx, newBatch(c.programId, campaignId, input, { source: 'imported', prefix: '', length: 0 }, actor));
        const { inserted, rejected } = await insertCodes(tx, batch.id, batch.usesPerCode, [...unique.keys()]);
        for (const r of rejected) duplicates.push(unique.get(r)!);
        await repo.setBatchCount(tx, batch.id, inserted.length);
        let min: number | null = null;
        let max: number | null = null;
        for (const c of inserted) {
          if (min === null || c.length < min) min = c.length;
          if (max === null || c.length > max) max = c.length;
        }
        await repo.setImportedLengths(tx, batch.id, min, max);
        await audit(tx, actor, 'code_batch.import', `code_batch:${batch.id}`, {
          imported: inserted.length,
          duplicates: duplicates.length,
          invalid: invalid.length,
        });
        return { batch: { ...batch, codeCount: inserted.length }, imported: inserted.length, duplicates, invalid };
      });
    },
  };
}

/**
 * Intake of a receipt photo on the message's transaction: checked, stored (content-addressed),
 * and a receipt row written for the campaign that takes receipts now. The engine has downloaded
 * the photo before the transaction opened (and bounded that time): `load()` hands over its bytes,
 * or rejects when the download failed.
 */
import type { Db } from '../../db/sql.js';
import * as repo from '../../db/receipts/receipts-repo.js';
import { findCampaignForReceipt } from '../../db/receipts/rules-repo.js';
import { sha256Hex } from '../../shared/ids.js';
import { storable, type ReceiptsContext } from './context.js';
import { checkImage, withoutMetadata } from './image.js';
import { receiptMediaKey } from './media-store.js';
import type { IntakeInput, IntakeResult } from './types.js';

export async function intakeReceipt(ctx: ReceiptsContext, db: Db, input: IntakeInput): Promise<IntakeResult> {
  const { limits } = ctx;
  if (input.media.size !== undefined && input.media.size > limits.maxBytes) return { status: 'refused', reason: 'too_large' };
  let bytes: Buffer;
  try {
    bytes = await input.media.load();
  } catch (error) {
    ctx.logger?.warn({ err: error, sourceRef: input.sourceRef }, 'receipt photo could not be downloaded');
    return { status: 'refused', reason: 'download_failed' };
  }
  const check = await checkImage(bytes, limits);
  if (!check.ok) return { status: 'refused', reason: check.reason };
  // Stored without its metadata (GPS position, names, device): see withoutMetadata.
  const stored = await withoutMetadata(bytes, limits);
  const sha = sha256Hex(stored.bytes);
  const mediaKey = receiptMediaKey(sha, stored.ext);
  // Stored before the row: content-addressed, so a rolled-back intake leaves a reusable file only.
  await ctx.media.put(mediaKey, stored.bytes);
  const campaign = await findCampaignForReceipt(db, { programId: input.programId, at: ctx.clock.now(), role: input.role });
  const { receipt, created } = await repo.insertReceipt(db, {
    programId: input.programId,
    participantId: input.participantId,
    campaignId: campaign?.campaignId ?? null,
    sourceRef: input.sourceRef,
    mediaKey,
    mimeType: stored.mimeType,
    width: stored.width,
    height: stored.height,
    byteSize: stored.bytes.length,
    imageSha256: sha,
    caption: (input.caption && storable(input.caption).trim()) || null,
  });
  return created ? { status: 'accepted', receipt } : { status: 'already_received', receipt };
}

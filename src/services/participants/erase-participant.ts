/**
 * Erasure: personal data (name, phone, store, profile, identities, conversations, the web chat's
 * messages and uploads, delivered messages) removed; ledger rows stay, anonymous. Features keeping
 * personal data of their own register an `ErasureHook` instead of this service importing them.
 */
import type { Db } from '../../db/sql.js';
import * as repo from '../../db/participants/participants-repo.js';
import * as outbox from '../../db/outbox/repo.js';
import { deleteConversations } from '../../db/participants/conversations-repo.js';
import * as webChat from '../../db/web/web-chat-repo.js';

/** Runs inside the erasure's transaction. */
export type ErasureHook = (db: Db, participantId: string) => Promise<unknown>;

/** Give a transaction (erasure is all or nothing). */
export async function eraseParticipant(tx: Db, id: string, at: Date, hooks: readonly ErasureHook[]): Promise<void> {
  await repo.lockById(tx, id);
  await repo.update(tx, id, { status: 'erased', name: null, phone: null, phoneVerified: false, store: null, profile: {}, erasedAt: at });
  // The web chat's stored messages and uploads are personal data of those chats too.
  const webChats = (await repo.identitiesOf(tx, id)).filter((i) => i.channel === 'web').map((i) => i.chatId);
  await webChat.deleteChats(tx, webChats);
  const identityIds = await repo.deleteIdentitiesOf(tx, id);
  // Delivered messages may quote personal data; what is still waiting (the goodbye) is kept.
  await outbox.deleteSettledOf(tx, id);
  await deleteConversations(tx, identityIds);
  for (const hook of hooks) await hook(tx, id);
}

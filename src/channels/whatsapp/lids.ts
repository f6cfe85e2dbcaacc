/**
 * `…@lid` senders. WhatsApp hides some senders' phones behind a privacy id (lid) and tells the phone
 * only when asked, and not always. The external id used for such a sender is chosen the first time
 * the lid writes (the phone digits if WhatsApp told them, else the lid itself) and stored, so every
 * later message of that person gets the same identity even when the lookup fails. A phone learnt
 * later is still remembered and passed on as the verified phone, which links the identity to a
 * participant known by that number.
 */
import type { Db } from '../../db/sql.js';

export interface LidIdentity {
  /** The stable `Inbound.from.externalId` for this lid. */
  externalId: string;
  /** Phone digits behind the lid, when WhatsApp told them now or earlier. */
  phoneDigits?: string;
}

export interface LidStore {
  /** The identity of `lid`; `lookup` asks WhatsApp for the phone (only when none is stored). */
  identify(lid: string, lookup: () => Promise<string | undefined>): Promise<LidIdentity>;
}

interface LidRow {
  externalId: string;
  phoneDigits: string | null;
}

const toIdentity = (r: LidRow): LidIdentity => ({ externalId: r.externalId, ...(r.phoneDigits ? { phoneDigits: r.phoneDigits } : {}) });

export function createLidStore(db: Db): LidStore {
  return {
    async identify(lid, lookup) {
      const [known] = await db<LidRow[]>`select external_id, phone_digits from whatsapp_lids where lid = ${lid}`;
      if (known?.phoneDigits) return toIdentity(known);
      const phone = await lookup().catch(() => undefined);
      if (known) {
        if (!phone) return toIdentity(known);
        await db`update whatsapp_lids set phone_digits = ${phone}, resolved_at = now() where lid = ${lid}`;
        return { externalId: known.externalId, phoneDigits: phone };
      }
      // First message of this lid: the choice made here is final (a concurrent first message of the
      // same lid loses the insert and reads the winner's choice).
      const [inserted] = await db<LidRow[]>`
        insert into whatsapp_lids (lid, phone_digits, external_id, resolved_at)
        values (${lid}, ${phone ?? null}, ${phone ?? lid}, ${phone ? new Date() : null})
        on conflict (lid) do nothing
        returning external_id, phone_digits`;
      if (inserted) return toIdentity(inserted);
      const [winner] = await db<LidRow[]>`select external_id, phone_digits from whatsapp_lids where lid = ${lid}`;
      const phoneDigits = winner?.phoneDigits ?? phone;
      return { externalId: winner?.externalId ?? lid, ...(phoneDigits ? { phoneDigits } : {}) };
    },
  };
}

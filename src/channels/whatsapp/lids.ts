/**
 * `…@lid` senders. WhatsApp hides some senders' phones behind a privacy id (lid) and tells the phone
 * only when asked, and not always. The external id used for such a sender is chosen the first time
 * the lid writes (the phone digits if WhatsApp told them, else the lid itself) and stored, so every
 * later message of that person gets the same identity even when the lookup fails. A phone learnt
 * later is still remembered and passed on as the verified phone, which links the identity to a
 * participant known by that number.
 */
import type { Db } from '../../db/sql.js';
import * as lids from '../../db/whatsapp/lids-repo.js';
import type { LidRow } from '../../db/whatsapp/lids-repo.js';

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

const toIdentity = (r: LidRow): LidIdentity => ({ externalId: r.externalId, ...(r.phoneDigits ? { phoneDigits: r.phoneDigits } : {}) });

export function createLidStore(db: Db): LidStore {
  return {
    async identify(lid, lookup) {
      const known = await lids.findLid(db, lid);
      if (known?.phoneDigits) return toIdentity(known);
      const phone = await lookup().catch(() => undefined);
      if (known) {
        if (!phone) return toIdentity(known);
        await lids.setLidPhone(db, lid, phone);
        return { externalId: known.externalId, phoneDigits: phone };
      }
      // First message of this lid: the choice made here is final (a concurrent first message of the
      // same lid loses the insert and reads the winner's choice).
      const inserted = await lids.insertLid(db, lid, phone);
      if (inserted) return toIdentity(inserted);
      const winner = await lids.findLid(db, lid);
      const phoneDigits = winner?.phoneDigits ?? phone;
      return { externalId: winner?.externalId ?? lid, ...(phoneDigits ? { phoneDigits } : {}) };
    },
  };
}

/** The campaign/code/sales Notifier over the outbox: notices commit with the effect that caused them. */
import type { Notifier } from '../campaigns/notifier.js';
import type { EnqueueOutbound } from './enqueue-outbound.js';
import type { ParticipantsService } from '../participants/index.js';

export function createOutboxNotifier(deps: { enqueueOutbound: EnqueueOutbound; participants: ParticipantsService }): Notifier {
  return {
    async notifyParticipant(db, participantId, render, dedupeKey) {
      await deps.enqueueOutbound(db, { participantId, kind: 'notice', message: (t, locale) => render(t, locale), dedupeKey });
    },
    async notifyManagers(db, programId, render) {
      for (const m of await deps.participants.withRole(db, 'manager', programId)) {
        if (m.status !== 'active') continue;
        await deps.enqueueOutbound(db, { participantId: m.id, kind: 'notice', message: (t, locale) => render(t, locale) });
      }
    },
  };
}

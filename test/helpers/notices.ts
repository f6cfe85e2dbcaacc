/**
 * A campaigns Notifier that keeps every participant notice as the participant would read it, in the
 * participant's language (Polish unless set in `locales`), for tests to assert on the text.
 */
import type { Notifier } from '../../src/services/campaigns/index.js';
import type { createI18n } from '../../src/i18n/index.js';

type Locale = 'pl' | 'pt-PT' | 'be';

export function recordingNotifier(i18n: ReturnType<typeof createI18n>) {
  const notices = new Map<string, string[]>();
  const locales = new Map<string, Locale>();
  const notifier: Notifier = {
    async notifyParticipant(_db, participantId, render) {
      const l = locales.get(participantId) ?? 'pl';
      notices.set(participantId, [...(notices.get(participantId) ?? []), render(i18n.t(l), l).text]);
    },
    async notifyManagers() {},
  };
  /** The newest notice a participant got ('' when none). */
  const last = (p: { id: string }) => notices.get(p.id)?.at(-1) ?? '';
  return { notifier, notices, locales, last };
}

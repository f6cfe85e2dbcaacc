import type { Db } from '../../db/sql.js';
import type { Locale, Translate } from '../../i18n/index.js';

/** A message for one participant, rendered in their language when it is queued. */
export interface Notice {
  text: string;
  choices?: Array<Array<{ label: string; value: string }>>;
}

export type RenderNotice = (t: Translate, locale: Locale) => Notice;

/**
 * The way campaign, code and sales services tell people things they did not just ask about
 * (sale approved, points clawed back, budget exhausted). Implemented over the outbox in main.ts,
 * so a notice commits with the effect that caused it.
 */
export interface Notifier {
  notifyParticipant(db: Db, participantId: string, render: RenderNotice, dedupeKey?: string): Promise<void>;
  /** Every active participant with role manager in the program. */
  notifyManagers(db: Db, programId: string, render: RenderNotice): Promise<void>;
}

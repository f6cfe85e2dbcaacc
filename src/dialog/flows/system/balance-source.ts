/**
 * The port through which "my balance" and /mydata read what the dialog layer does not own: the
 * ledger, plus what features (sales, rewards, receipts) add. Declared here, where it is used; wired
 * in main.ts.
 */
import type { Locale, Translate } from '../../../i18n/index.js';
import type { Db } from '../../../db/sql.js';
import type { Participant } from '../../../domain/participants/index.js';
import type { DeliveryDetails } from '../../../domain/rewards/index.js';
import type { LocalizedText } from '../../../shared/locale.js';
import type { Balance, HistoryEntry } from '../../../services/ledger/index.js';

export interface AnswerContext {
  t: Translate;
  locale: Locale;
}

/** Lines a feature adds under "my balance" (sales: target progress for staff); [] for nothing. */
export type ProgressLines = (db: Db, participant: Participant, ctx: AnswerContext) => Promise<string[]>;

/** What another feature keeps about a person; /mydata renders it in their language. */
export type PersonalRecord =
  /** Reward orders, newest first; `total` counts all of them when only some are given. */
  | { kind: 'orders'; total: number; items: Array<{ at: Date; reward: string | LocalizedText; delivery: DeliveryDetails }> }
  | { kind: 'count'; what: 'sales' | 'receipts'; n: number };

export type PersonalDataSource = (db: Db, participant: Participant) => Promise<PersonalRecord[]>;

export interface BalanceSource {
  balance(db: Db, programId: string, participantId: string): Promise<Balance>;
  history(db: Db, programId: string, participantId: string, options?: { limit?: number }): Promise<HistoryEntry[]>;
  progress?: ProgressLines;
  personalData?: PersonalDataSource[];
}

/**
 * Built-in answers that work from anywhere: help, language, my data, delete, my balance.
 */
import { LOCALES, type Locale } from '../i18n/index.js';
import * as repo from '../db/participants/participants-repo.js';
import type { Participant } from '../domain/participants/index.js';
import type { Balance, HistoryEntry } from '../services/ledger/index.js';
import type { Outbound } from './types.js';
import type { Turn } from './turn.js';

/** What the engine needs from the ledger for "my balance" and the admin profile. */
export interface BalanceSource {
  balance(programId: string, participantId: string, db?: Turn['db']): Promise<Balance>;
  history(programId: string, participantId: string, options?: { limit?: number }, db?: Turn['db']): Promise<HistoryEntry[]>;
}

export function languageChoices(translate: (l: Locale) => Turn['t'], t: Turn['t']): Outbound {
  return {
    text: t('bot:language.choose'),
    choices: [LOCALES.map((l) => ({ label: translate(l)('common:language_name'), value: `lang:${l}` }))],
  };
}

export function helpText(turn: Turn): string {
  return turn.t('bot:help', { program: turn.program.name });
}

export async function myData(turn: Turn, participant: Participant): Promise<string> {
  const { t } = turn;
  const identities = await repo.identitiesOf(turn.db, participant.id);
  const consents = await repo.consents(turn.db, participant.id);
  const none = t('bot:mydata.none');
  const lines = [
    t('bot:mydata.title'),
    t('bot:mydata.name', { value: participant.name ?? none }),
    t('bot:mydata.phone', {
      value: participant.phone ?? none,
      verified: participant.phone ? t(participant.phoneVerified ? 'bot:mydata.verified' : 'bot:mydata.unverified') : '',
    }).trimEnd(),
    t('bot:mydata.role', { value: participant.role ? t(`bot:role.${participant.role}`) : none }),
    ...(participant.store ? [t('bot:mydata.store', { value: participant.store })] : []),
    t('bot:mydata.language', { value: t('common:language_name') }),
    ...Object.entries(participant.profile).map(([k, v]) => t('bot:mydata.profile', { question: k, value: v ?? none })),
    t('bot:mydata.channels', { value: identities.map((i) => t(`bot:channel.${i.channel}`)).join(', ') || none }),
    ...consents.map((c) =>
      t(c.accepted ? 'bot:mydata.consent_given' : 'bot:mydata.consent_declined', { version: c.termsVersion, at: c.at }),
    ),
    ...(participant.registeredAt ? [t('bot:mydata.registered', { at: participant.registeredAt })] : []),
    t('bot:mydata.muted', { value: t(participant.muted ? 'bot:mydata.yes' : 'bot:mydata.no') }),
    '',
    t('bot:mydata.footer'),
  ];
  return lines.join('\n');
}

export async function balanceMessage(turn: Turn, participant: Participant, ledger: BalanceSource | undefined): Promise<string> {
  const { t } = turn;
  if (!ledger) return t('bot:balance.unavailable');
  const b = await ledger.balance(participant.programId, participant.id, turn.db);
  const history = await ledger.history(participant.programId, participant.id, { limit: 5 }, turn.db);
  const lines = [t('bot:balance.available', { count: b.available })];
  if (b.pending) lines.push(t('bot:balance.pending', { count: b.pending }));
  if (b.held) lines.push(t('bot:balance.held', { count: b.held }));
  if (b.expiringSoon) lines.push(t('bot:balance.expiring', { count: b.expiringSoon.amount, at: b.expiringSoon.at }));
  if (history.length) {
    lines.push('', t('bot:balance.recent'));
    for (const e of history) lines.push(historyLine(turn, e));
  } else {
    lines.push('', t('bot:balance.empty'));
  }
  return lines.join('\n');
}

function historyLine(turn: Turn, e: HistoryEntry): string {
  const { t } = turn;
  const amount = e.amount !== 0 ? e.amount : e.pendingAmount;
  const sign = amount > 0 ? '+' : amount < 0 ? '−' : '';
  const key = e.reason?.key;
  let reason = key ? t(key, { ...(e.reason.params ?? {}), defaultValue: '' }) : '';
  if (!reason) reason = t(`bot:balance.kind.${e.kind}`);
  return t('bot:balance.line', { sign, n: Math.abs(amount), at: e.at, reason });
}

/**
 * The system flow's answers: the language question, help, /mydata and "my balance", rendered in
 * the participant's language.
 */
import { LOCALES, type Locale, type Translate } from '../../../i18n/index.js';
import { isLocalizedText, ownLocalized, pickLocalized } from '../../../shared/locale.js';
import type { Participant, ProgramInfo } from '../../../domain/participants/index.js';
import type { HistoryEntry } from '../../../services/ledger/index.js';
import type { Outbound } from '../../types.js';
import type { ChatContext } from '../../flow.js';
import type { BalanceSource, PersonalDataSource } from './balance-source.js';

export type { AnswerContext, BalanceSource, PersonalDataSource, PersonalRecord, ProgressLines } from './balance-source.js';

/** Where an answer is written: the message's context, in the language the chat speaks now. */
export interface Speaker {
  ctx: Pick<ChatContext, 'db' | 'program' | 'services'>;
  t: Translate;
  locale: Locale;
}

export function languageChoices(translate: (l: Locale) => Translate, t: Translate): Outbound {
  return {
    text: t('bot:language.choose'),
    choices: [LOCALES.map((l) => ({ label: translate(l)('common:language_name'), value: `lang:${l}` }))],
  };
}

export function helpText(t: Translate, program: Pick<ProgramInfo, 'name'>): string {
  return t('bot:help', { program: program.name });
}

export async function myData(turn: Speaker, participant: Participant, sources?: Pick<BalanceSource, 'personalData'>): Promise<string> {
  const { t } = turn;
  const { db, services } = turn.ctx;
  const identities = await services.participants.identities(db, participant.id);
  const consents = await services.participants.consents(db, participant.id);
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
    ...(await personalLines(turn, participant, sources?.personalData ?? [])),
    '',
    t('bot:mydata.footer'),
  ];
  return lines.join('\n');
}

export async function balanceMessage(turn: Speaker, participant: Participant, ledger: BalanceSource | undefined): Promise<string> {
  const { t } = turn;
  const { db } = turn.ctx;
  if (!ledger) return t('bot:balance.unavailable');
  const b = await ledger.balance(db, participant.programId, participant.id);
  const history = await ledger.history(db, participant.programId, participant.id, { limit: 5 });
  const lines = [t('bot:balance.available', { count: b.available })];
  if (b.pending) lines.push(t('bot:balance.pending', { count: b.pending }));
  if (b.held) lines.push(t('bot:balance.held', { count: b.held }));
  if (b.expiringSoon) lines.push(t('bot:balance.expiring', { count: b.expiringSoon.amount, at: b.expiringSoon.at }));
  const progress = ledger.progress ? await ledger.progress(db, participant, { t, locale: turn.locale }) : [];
  if (progress.length) lines.push('', t('bot:balance.targets'), ...progress);
  if (history.length) {
    lines.push('', t('bot:balance.recent'));
    for (const e of history) lines.push(historyLine(turn, e));
  } else {
    lines.push('', t('bot:balance.empty'));
  }
  return lines.join('\n');
}

function historyLine(turn: Speaker, e: HistoryEntry): string {
  const { t } = turn;
  const amount = e.amount !== 0 ? e.amount : e.pendingAmount;
  const sign = amount > 0 ? '+' : amount < 0 ? '−' : '';
  const key = e.reason?.key;
  let reason = key ? t(key, { ...localizeParams(e.reason.params ?? {}, turn.locale), defaultValue: '' }) : '';
  if (!reason) reason = t(`bot:balance.kind.${e.kind}`);
  return t('bot:balance.line', { sign, n: Math.abs(amount), at: e.at, reason });
}

/**
 * Reason params may carry names in every language (`{ name: { pl, pt, be } }`, or `names` beside a
 * frozen `name`): the participant reads the one in their language, whatever language it was booked in.
 */
export function localizeParams(params: Record<string, unknown>, locale: Locale): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = isLocalizedText(v) ? pickLocalized(v, locale) : v;
  if (isLocalizedText(params.names)) out.name = ownLocalized(params.names, locale) || out.name;
  return out;
}

async function personalLines(turn: Speaker, participant: Participant, sources: PersonalDataSource[]): Promise<string[]> {
  const { t, locale } = turn;
  const lines: string[] = [];
  for (const source of sources) {
    for (const record of await source(turn.ctx.db, participant)) {
      if (record.kind === 'count') {
        if (record.n > 0) lines.push(t(`bot:mydata.${record.what}`, { n: record.n }));
        continue;
      }
      const withDetails = record.items.filter((o) => o.delivery.method !== 'none');
      if (!withDetails.length) continue;
      lines.push(t('bot:mydata.orders'));
      for (const o of withDetails) {
        const reward = pickLocalized(o.reward, locale);
        const d = o.delivery;
        if (d.method === 'address') lines.push(t('bot:mydata.order_address', { reward, at: o.at, name: d.name, address: d.address }));
        else if (d.method === 'pickup') lines.push(t('bot:mydata.order_pickup', { reward, at: o.at, name: d.name, store: d.store }));
        else if (d.method === 'payout') lines.push(t('bot:mydata.order_payout', { reward, at: o.at, payout: d.payout }));
      }
      if (record.total > record.items.length) lines.push(t('bot:mydata.orders_more', { shown: record.items.length, total: record.total }));
    }
  }
  return lines;
}

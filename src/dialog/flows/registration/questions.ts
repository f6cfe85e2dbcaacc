/**
 * Registration's questions: language → consent → phone → name → role (→ store/company) → profile
 * questions → main menu. What is still missing is computed from the participant row (and, before a
 * participant exists, from the chat's state), so a restart, a second channel or a changed terms
 * version all resume at the right question.
 */
import { LOCALES, localeFromPhone, localeFromTag } from '../../../i18n/index.js';
import { nextRegistrationStep, SELF_SERVICE_ROLES, type ProfileQuestion } from '../../../domain/participants/index.js';
import type { Outbound } from '../../types.js';
import { inRows } from '../../menu.js';
import type { ChatContext } from '../../flow.js';
import type { ChatDraft } from '../chat-draft.js';

/** What registration reads of a chat to know what is missing. */
export type ChatView = Pick<ChatDraft, 'participant' | 'identity' | 'state'> & { ctx: Pick<ChatContext, 'program'> };

export type Need =
  | { step: 'language' }
  | { step: 'consent' }
  | { step: 'phone' }
  | { step: 'name' }
  | { step: 'role' }
  | { step: 'store' }
  | { step: 'profile'; question: ProfileQuestion }
  | { step: 'done' };

export function languageKnown(chat: ChatView): boolean {
  return Boolean(
    chat.participant?.locale ??
      chat.state.pre?.locale ??
      localeFromTag(chat.identity.localeHint) ??
      localeFromPhone(chat.participant?.phone ?? chat.identity.verifiedPhone),
  );
}

export function whatIsNeeded(chat: ChatView): Need {
  const p = chat.participant;
  if (!p) {
    if (!languageKnown(chat)) return { step: 'language' };
    if (chat.state.pre?.consentVersion !== chat.ctx.program.termsVersion) return { step: 'consent' };
    return { step: 'phone' };
  }
  const next = nextRegistrationStep(p, chat.ctx.program);
  if (next.step === 'profile') {
    return { step: 'profile', question: chat.ctx.program.profileQuestions.find((q) => q.id === next.questionId)! };
  }
  return { step: next.step } as Need;
}

export function prompt(chat: ChatDraft, need: Need): Outbound {
  const { t } = chat;
  switch (need.step) {
    case 'language':
      return {
        text: LOCALES.map((l) => chat.ctx.translate(l)('bot:reg.choose_language')).join('\n'),
        choices: [LOCALES.map((l) => ({ label: chat.ctx.translate(l)('common:language_name'), value: `lang:${l}` }))],
      };
    case 'consent':
      return {
        text: [
          t('bot:reg.consent', { program: chat.ctx.program.name, version: chat.ctx.program.termsVersion }),
          ...(chat.ctx.program.termsUrl ? [t('bot:reg.consent_link', { url: chat.ctx.program.termsUrl })] : []),
        ].join('\n\n'),
        choices: [[{ label: t('bot:reg.consent_accept'), value: 'reg:consent_yes' }], [{ label: t('bot:reg.consent_decline'), value: 'reg:consent_no' }]],
      };
    case 'phone':
      return chat.identity.channel === 'telegram'
        ? { text: t('bot:reg.phone'), requestPhone: { label: t('bot:reg.phone_button') } }
        : { text: t('bot:reg.phone_typed'), requestPhone: { label: t('bot:reg.phone_button') } };
    case 'name':
      return { text: t('bot:reg.name') };
    case 'role':
      return {
        text: t('bot:reg.role'),
        choices: inRows(SELF_SERVICE_ROLES.map((r) => ({ label: t(`bot:role.${r}`), value: `reg:role:${r}` }))),
      };
    case 'store':
      return { text: t(chat.participant?.role === 'retail_staff' ? 'bot:reg.store' : 'bot:reg.company') };
    case 'profile': {
      const q = need.question;
      const text = q.text[chat.locale] ?? q.text[chat.ctx.program.defaultLocale] ?? Object.values(q.text)[0] ?? '';
      const options = (q.options ?? []).map((o, i) => ({
        label: o.label[chat.locale] ?? o.label[chat.ctx.program.defaultLocale] ?? Object.values(o.label)[0] ?? o.value,
        value: `reg:pq:${i}`,
      }));
      const skip = q.optional ? [[{ label: t('bot:reg.skip'), value: 'reg:pq_skip' }]] : [];
      return { text, ...(options.length || skip.length ? { choices: [...inRows(options), ...skip] } : {}) };
    }
    case 'done':
      return { text: '' };
  }
}


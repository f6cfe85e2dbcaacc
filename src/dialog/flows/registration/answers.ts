/**
 * Registration's answers: applies a message to the question the chat was asked, writing through the
 * participants service on the message's transaction (consent, a new participant, a linked phone,
 * profile answers).
 */
import { LOCALES, type Locale } from '../../../i18n/index.js';
import { normalizePhone, SELF_SERVICE_ROLES, type ParticipantRole } from '../../../domain/participants/index.js';
import type { ChatDraft } from '../chat-draft.js';
import { phoneHeldByOther } from '../../../db/participants/phone-owner.js';
import type { Need } from './questions.js';

export type Applied = 'advanced' | 'invalid' | 'not_for_me';

/**
 * Applies the message to the question the chat was asked (`askedStep`). 'invalid' means a hint was
 * already added to the replies; 'not_for_me' means the message answers nothing (e.g. /start).
 */
export async function applyAnswer(chat: ChatDraft, need: Need, askedStep: string | undefined): Promise<Applied> {
  const { inbound } = chat.ctx;
  const { t } = chat;
  const choice = inbound.kind === 'choice' ? inbound.value : undefined;
  const text = inbound.kind === 'text' ? inbound.text.trim() : undefined;
  const asked = askedStep === `reg.${need.step}`;

  switch (need.step) {
    case 'language': {
      if (text !== undefined && asked) {
        const picked = pickLanguageByText(chat, text);
        if (picked) {
          chat.state.pre = { ...chat.state.pre, locale: picked };
          return 'advanced';
        }
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'consent': {
      if (choice === 'reg:consent_yes') {
        await recordConsent(chat, true);
        return 'advanced';
      }
      if (choice === 'reg:consent_no') {
        await recordConsent(chat, false);
        chat.reply({
          text: t('bot:reg.consent_declined'),
          choices: [[{ label: t('bot:reg.consent_again'), value: 'reg:consent_again' }]],
        });
        chat.state.step = { step: 'reg.consent_declined' };
        return 'invalid';
      }
      if (choice === 'reg:consent_again') return 'not_for_me';
      if (askedStep === 'reg.consent_declined' && inbound.kind !== 'command') {
        chat.reply({ text: t('bot:reg.consent_declined'), choices: [[{ label: t('bot:reg.consent_again'), value: 'reg:consent_again' }]] });
        return 'invalid';
      }
      if (asked && inbound.kind !== 'command') {
        chat.reply(t('bot:reg.consent_use_buttons'));
        return 'invalid';
      }
      return 'not_for_me';
    }
    case 'phone': {
      if (inbound.kind === 'contact') {
        if (!inbound.own) {
          chat.reply(t('bot:reg.phone_not_own'));
          return 'invalid';
        }
        const phone = normalizePhone(inbound.phone.startsWith('+') ? inbound.phone : `+${inbound.phone.replace(/^\+?/, '')}`);
        if (!phone) {
          chat.reply(t('bot:reg.phone_invalid'));
          return 'invalid';
        }
        await attachPhone(chat, phone, true);
        return 'advanced';
      }
      if (text !== undefined && asked) {
        const phone = normalizePhone(text, chat.locale);
        if (!phone) {
          chat.reply(t('bot:reg.phone_invalid'));
          return 'invalid';
        }
        if (await phoneHeldByOther(chat.ctx.db, chat.ctx.program.id, phone, chat.participant?.id)) {
          chat.reply(t('bot:reg.phone_taken'));
          return 'invalid';
        }
        await attachPhone(chat, phone, false);
        return 'advanced';
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'name': {
      if (text !== undefined && asked) {
        const name = text.replace(/\s+/g, ' ');
        if (name.length < 2 || name.length > 64 || !/\p{L}/u.test(name)) {
          chat.reply(t('bot:reg.name_invalid'));
          return 'invalid';
        }
        chat.participant = (await participants(chat).updateProfile(chat.ctx.db, chat.participant!.id, { name }))!;
        return 'advanced';
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'role': {
      const role = choice?.startsWith('reg:role:') ? (choice.slice('reg:role:'.length) as ParticipantRole) : undefined;
      if (role && SELF_SERVICE_ROLES.includes(role)) {
        chat.participant = (await participants(chat).updateProfile(chat.ctx.db, chat.participant!.id, { role }))!;
        return 'advanced';
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'store': {
      if (text !== undefined && asked) {
        const store = text.replace(/\s+/g, ' ');
        if (store.length < 2 || store.length > 100) {
          chat.reply(t('bot:reg.store_invalid'));
          return 'invalid';
        }
        chat.participant = (await participants(chat).updateProfile(chat.ctx.db, chat.participant!.id, { store }))!;
        return 'advanced';
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'profile': {
      const q = need.question;
      let answer: string | null | undefined;
      if (choice === 'reg:pq_skip' && q.optional) answer = null;
      else if (choice?.startsWith('reg:pq:')) answer = q.options?.[Number(choice.slice('reg:pq:'.length))]?.value;
      else if (text !== undefined && asked && !q.options?.length && text.length > 0 && text.length <= 200) answer = text;
      if (answer === undefined) return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
      const profile = { ...chat.participant!.profile, [q.id]: answer };
      chat.participant = (await participants(chat).updateProfile(chat.ctx.db, chat.participant!.id, { profile }))!;
      return 'advanced';
    }
    case 'done':
      return 'not_for_me';
  }
}

function pickLanguageByText(chat: ChatDraft, text: string): Locale | undefined {
  const lower = text.toLowerCase().trim();
  const byNumber = new RegExp(`^[1-${LOCALES.length}]$`).test(lower) ? LOCALES[Number(lower) - 1] : undefined;
  if (byNumber) return byNumber;
  return LOCALES.find((l) => {
    const name = chat.ctx.translate(l)('common:language_name').toLowerCase();
    return lower === name || lower === l || name.startsWith(lower) && lower.length >= 3;
  });
}

async function recordConsent(chat: ChatDraft, accepted: boolean): Promise<void> {
  const at = new Date(chat.ctx.inbound.receivedAt);
  const version = chat.ctx.program.termsVersion;
  if (chat.participant) {
    const current = await participants(chat).recordConsent(chat.ctx.db, { participantId: chat.participant.id, termsVersion: version, accepted, at });
    if (current) chat.participant = current;
  } else if (accepted) {
    chat.state.pre = { ...chat.state.pre, consentAt: at.toISOString(), consentVersion: version };
  } else {
    // Declined before a participant exists: nothing is stored about them but the chat's state.
    const { consentAt: _a, consentVersion: _v, ...rest } = chat.state.pre ?? {};
    chat.state.pre = rest;
  }
}

/**
 * With a phone: a verified one that already belongs to a participant links this chat to them (one
 * participant, one balance across channels); otherwise a participant is created with the consent
 * given in this chat.
 */
export async function attachPhone(chat: ChatDraft, phone: string, verified: boolean): Promise<void> {
  const { db, program } = chat.ctx;
  const pre = chat.state.pre ?? {};
  const consent = {
    at: pre.consentAt ? new Date(pre.consentAt) : new Date(chat.ctx.inbound.receivedAt),
    termsVersion: pre.consentVersion ?? program.termsVersion,
  };
  if (verified) {
    // The consent given in this chat counts only when it is for the current terms.
    const given = pre.consentVersion === program.termsVersion ? consent : undefined;
    const existing = await participants(chat).linkVerifiedPhone(db, {
      programId: program.id,
      identityId: chat.identity.id,
      phone,
      ...(given ? { consent: given } : {}),
    });
    if (existing) {
      chat.identity = { ...chat.identity, participantId: existing.id };
      chat.participant = existing;
      chat.state.pre = undefined;
      chat.relocalize();
      chat.reply(existing.name ? chat.t('bot:reg.linked_named', { name: existing.name }) : chat.t('bot:reg.linked'));
      return;
    }
  }
  const created = await participants(chat).register(db, {
    programId: program.id,
    identityId: chat.identity.id,
    phone,
    phoneVerified: verified,
    locale: pre.locale ?? null,
    consent,
  });
  chat.identity = { ...chat.identity, participantId: created.id };
  chat.participant = created;
  chat.state.pre = undefined;
  chat.relocalize();
}

const participants = (chat: ChatDraft) => chat.ctx.services.participants;

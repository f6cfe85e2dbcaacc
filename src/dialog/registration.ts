/**
 * Registration: language → consent → phone → name → role (→ store/company) → profile questions →
 * main menu. What is still missing is computed from the participant row (and, before a participant
 * exists, from the chat's state), so a restart, a second channel or a changed terms version all
 * resume at the right question.
 */
import { LOCALES, localeFromPhone, localeFromTag, type Locale } from '../i18n/index.js';
import {
  normalizePhone,
  nextRegistrationStep,
  SELF_SERVICE_ROLES,
  type ParticipantRole,
  type ProfileQuestion,
} from '../domain/participants/index.js';
import * as repo from '../db/participants/participants-repo.js';
import { phoneHeldByOther } from '../db/participants/phone-owner.js';
import type { Outbound } from './types.js';
import type { Turn } from './turn.js';
import { inRows } from './menu.js';

export type Need =
  | { step: 'language' }
  | { step: 'consent' }
  | { step: 'phone' }
  | { step: 'name' }
  | { step: 'role' }
  | { step: 'store' }
  | { step: 'profile'; question: ProfileQuestion }
  | { step: 'done' };

export interface RegistrationDeps {
  /** `t` for another language (the language question is asked in all three). */
  translate: (locale: Locale) => Turn['t'];
  /** Called with the newly linked/created participant so the engine refreshes locale and `t`. */
  onParticipant: (turn: Turn) => void;
}

export function languageKnown(turn: Turn): boolean {
  return Boolean(
    turn.participant?.locale ??
      turn.state.pre?.locale ??
      localeFromTag(turn.identity.localeHint) ??
      localeFromPhone(turn.participant?.phone ?? turn.identity.verifiedPhone),
  );
}

export function whatIsNeeded(turn: Turn): Need {
  const p = turn.participant;
  if (!p) {
    if (!languageKnown(turn)) return { step: 'language' };
    if (turn.state.pre?.consentVersion !== turn.program.termsVersion) return { step: 'consent' };
    return { step: 'phone' };
  }
  const next = nextRegistrationStep(p, turn.program);
  if (next.step === 'profile') {
    return { step: 'profile', question: turn.program.profileQuestions.find((q) => q.id === next.questionId)! };
  }
  return { step: next.step } as Need;
}

export function prompt(turn: Turn, need: Need, deps: RegistrationDeps): Outbound {
  const { t } = turn;
  switch (need.step) {
    case 'language':
      return {
        text: LOCALES.map((l) => deps.translate(l)('bot:reg.choose_language')).join('\n'),
        choices: [LOCALES.map((l) => ({ label: deps.translate(l)('common:language_name'), value: `lang:${l}` }))],
      };
    case 'consent':
      return {
        text: [
          t('bot:reg.consent', { program: turn.program.name, version: turn.program.termsVersion }),
          ...(turn.program.termsUrl ? [t('bot:reg.consent_link', { url: turn.program.termsUrl })] : []),
        ].join('\n\n'),
        choices: [[{ label: t('bot:reg.consent_accept'), value: 'reg:consent_yes' }], [{ label: t('bot:reg.consent_decline'), value: 'reg:consent_no' }]],
      };
    case 'phone':
      return turn.identity.channel === 'telegram'
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
      return { text: t(turn.participant?.role === 'retail_staff' ? 'bot:reg.store' : 'bot:reg.company') };
    case 'profile': {
      const q = need.question;
      const text = q.text[turn.locale] ?? q.text[turn.program.defaultLocale] ?? Object.values(q.text)[0] ?? '';
      const options = (q.options ?? []).map((o, i) => ({
        label: o.label[turn.locale] ?? o.label[turn.program.defaultLocale] ?? Object.values(o.label)[0] ?? o.value,
        value: `reg:pq:${i}`,
      }));
      const skip = q.optional ? [[{ label: t('bot:reg.skip'), value: 'reg:pq_skip' }]] : [];
      return { text, ...(options.length || skip.length ? { choices: [...inRows(options), ...skip] } : {}) };
    }
    case 'done':
      return { text: '' };
  }
}

type Applied = 'advanced' | 'invalid' | 'not_for_me';

/**
 * Applies the message to the question the chat was asked (`askedStep`). 'invalid' means a hint was
 * already added to the replies; 'not_for_me' means the message answers nothing (e.g. /start).
 */
export async function applyAnswer(turn: Turn, need: Need, askedStep: string | undefined, deps: RegistrationDeps): Promise<Applied> {
  const { inbound, t } = turn;
  const choice = inbound.kind === 'choice' ? inbound.value : undefined;
  const text = inbound.kind === 'text' ? inbound.text.trim() : undefined;
  const asked = askedStep === `reg.${need.step}`;

  switch (need.step) {
    case 'language': {
      if (text !== undefined && asked) {
        const picked = pickLanguageByText(text, deps);
        if (picked) {
          turn.state.pre = { ...turn.state.pre, locale: picked };
          return 'advanced';
        }
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'consent': {
      if (choice === 'reg:consent_yes') {
        await recordConsent(turn, true);
        return 'advanced';
      }
      if (choice === 'reg:consent_no') {
        await recordConsent(turn, false);
        turn.reply({
          text: t('bot:reg.consent_declined'),
          choices: [[{ label: t('bot:reg.consent_again'), value: 'reg:consent_again' }]],
        });
        turn.state.step = { step: 'reg.consent_declined' };
        return 'invalid';
      }
      if (choice === 'reg:consent_again') return 'not_for_me';
      if (askedStep === 'reg.consent_declined' && inbound.kind !== 'command') {
        turn.reply({ text: t('bot:reg.consent_declined'), choices: [[{ label: t('bot:reg.consent_again'), value: 'reg:consent_again' }]] });
        return 'invalid';
      }
      if (asked && inbound.kind !== 'command') {
        turn.reply(t('bot:reg.consent_use_buttons'));
        return 'invalid';
      }
      return 'not_for_me';
    }
    case 'phone': {
      if (inbound.kind === 'contact') {
        if (!inbound.own) {
          turn.reply(t('bot:reg.phone_not_own'));
          return 'invalid';
        }
        const phone = normalizePhone(inbound.phone.startsWith('+') ? inbound.phone : `+${inbound.phone.replace(/^\+?/, '')}`);
        if (!phone) {
          turn.reply(t('bot:reg.phone_invalid'));
          return 'invalid';
        }
        await attachPhone(turn, phone, true, deps);
        return 'advanced';
      }
      if (text !== undefined && asked) {
        const phone = normalizePhone(text, turn.locale);
        if (!phone) {
          turn.reply(t('bot:reg.phone_invalid'));
          return 'invalid';
        }
        if (await phoneHeldByOther(turn.db, turn.program.id, phone, turn.participant?.id)) {
          turn.reply(t('bot:reg.phone_taken'));
          return 'invalid';
        }
        await attachPhone(turn, phone, false, deps);
        return 'advanced';
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'name': {
      if (text !== undefined && asked) {
        const name = text.replace(/\s+/g, ' ');
        if (name.length < 2 || name.length > 64 || !/\p{L}/u.test(name)) {
          turn.reply(t('bot:reg.name_invalid'));
          return 'invalid';
        }
        turn.participant = (await repo.update(turn.db, turn.participant!.id, { name }))!;
        return 'advanced';
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'role': {
      const role = choice?.startsWith('reg:role:') ? (choice.slice('reg:role:'.length) as ParticipantRole) : undefined;
      if (role && SELF_SERVICE_ROLES.includes(role)) {
        turn.participant = (await repo.update(turn.db, turn.participant!.id, { role }))!;
        return 'advanced';
      }
      return asked && inbound.kind !== 'command' ? 'invalid' : 'not_for_me';
    }
    case 'store': {
      if (text !== undefined && asked) {
        const store = text.replace(/\s+/g, ' ');
        if (store.length < 2 || store.length > 100) {
          turn.reply(t('bot:reg.store_invalid'));
          return 'invalid';
        }
        turn.participant = (await repo.update(turn.db, turn.participant!.id, { store }))!;
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
      const profile = { ...turn.participant!.profile, [q.id]: answer };
      turn.participant = (await repo.update(turn.db, turn.participant!.id, { profile }))!;
      return 'advanced';
    }
    case 'done':
      return 'not_for_me';
  }
}

function pickLanguageByText(text: string, deps: RegistrationDeps): Locale | undefined {
  const lower = text.toLowerCase().trim();
  const byNumber = /^[123]$/.test(lower) ? LOCALES[Number(lower) - 1] : undefined;
  if (byNumber) return byNumber;
  return LOCALES.find((l) => {
    const name = deps.translate(l)('common:language_name').toLowerCase();
    return lower === name || lower === l || name.startsWith(lower) && lower.length >= 3;
  });
}

async function recordConsent(turn: Turn, accepted: boolean): Promise<void> {
  const at = new Date(turn.inbound.receivedAt);
  const version = turn.program.termsVersion;
  if (turn.participant) {
    await repo.insertConsent(turn.db, { participantId: turn.participant.id, termsVersion: version, accepted, at });
    if (accepted) turn.participant = (await repo.update(turn.db, turn.participant.id, { consentVersion: version, consentAt: at }))!;
  } else if (accepted) {
    turn.state.pre = { ...turn.state.pre, consentAt: at.toISOString(), consentVersion: version };
  } else {
    // Declined before a participant exists: nothing is stored about them but the chat's state.
    const { consentAt: _a, consentVersion: _v, ...rest } = turn.state.pre ?? {};
    turn.state.pre = rest;
  }
}

/**
 * With a phone: a verified one that already belongs to a participant links this chat to them (one
 * participant, one balance across channels); otherwise a participant is created with the consent
 * given in this chat.
 */
export async function attachPhone(turn: Turn, phone: string, verified: boolean, deps: RegistrationDeps): Promise<void> {
  const pre = turn.state.pre ?? {};
  const consentAt = pre.consentAt ? new Date(pre.consentAt) : new Date(turn.inbound.receivedAt);
  const consentVersion = pre.consentVersion ?? turn.program.termsVersion;
  if (verified) {
    const existing = await repo.findByVerifiedPhone(turn.db, turn.program.id, phone);
    if (existing) {
      await repo.linkIdentity(turn.db, turn.identity.id, existing.id);
      turn.identity = { ...turn.identity, participantId: existing.id };
      turn.participant = existing;
      if (existing.consentVersion !== turn.program.termsVersion && pre.consentVersion === turn.program.termsVersion) {
        await repo.insertConsent(turn.db, { participantId: existing.id, termsVersion: consentVersion, accepted: true, at: consentAt });
        turn.participant = (await repo.update(turn.db, existing.id, { consentVersion, consentAt }))!;
      }
      turn.state.pre = undefined;
      deps.onParticipant(turn);
      turn.reply(
        existing.name ? turn.t('bot:reg.linked_named', { name: existing.name }) : turn.t('bot:reg.linked'),
      );
      return;
    }
  }
  const created = await repo.insert(turn.db, {
    programId: turn.program.id,
    phone,
    phoneVerified: verified,
    locale: pre.locale ?? null,
    consentVersion,
    consentAt,
  });
  await repo.insertConsent(turn.db, { participantId: created.id, termsVersion: consentVersion, accepted: true, at: consentAt });
  await repo.linkIdentity(turn.db, turn.identity.id, created.id);
  turn.identity = { ...turn.identity, participantId: created.id };
  turn.participant = created;
  turn.state.pre = undefined;
  deps.onParticipant(turn);
}

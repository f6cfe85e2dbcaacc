/**
 * Registration as a flow: every message of a chat without a registered participant comes here
 * (after the system commands), and so does /start before registration is complete. It asks what
 * is missing (questions.ts), applies the answer (answers.ts, writing through the participants
 * service), and at the end shows the main menu or hands a waiting `/start` deep link to the
 * feature modules.
 */
import { isRegistered } from '../../../domain/participants/index.js';
import type { ChatContext, ChatTurn } from '../../flow.js';
import { draftOf, turnOf, type ChatDraft } from '../chat-draft.js';
import { applyAnswer, attachPhone } from './answers.js';
import { prompt, whatIsNeeded, type ChatView } from './questions.js';

export { whatIsNeeded, type ChatView, type Need } from './questions.js';

/** True while the chat still has a registration question to answer. */
export function needsRegistration(chat: ChatView): boolean {
  return !isRegistered(chat.participant) || whatIsNeeded(chat).step !== 'done';
}

export function register(ctx: ChatContext): Promise<ChatTurn> {
  const chat = draftOf(ctx);
  return continueRegistration(chat);
}

/** Registration on a draft other built-in flows already worked on (`/start <payload>`, `/menu`). */
export async function continueRegistration(chat: ChatDraft): Promise<ChatTurn> {
  const { ctx } = chat;
  const participants = ctx.services.participants;
  const fresh = !chat.participant && !chat.state.step;
  const verifiedPhone = chat.identity.verifiedPhone;
  // A channel that vouches for the phone (WhatsApp): a known number links this chat at once.
  if (!chat.participant && verifiedPhone && (await participants.findByVerifiedPhone(ctx.db, ctx.program.id, verifiedPhone))) {
    await attachPhone(chat, verifiedPhone, true);
  }
  let need = whatIsNeeded(chat);
  const askedStep = chat.state.step?.step;
  const consentAgain = ctx.inbound.kind === 'choice' && ctx.inbound.value === 'reg:consent_again';
  if (consentAgain) chat.state.step = { step: 'reg.consent' };
  const result = consentAgain || need.step === 'done' ? 'not_for_me' : await applyAnswer(chat, need, askedStep);
  if (chat.state.step?.step === 'reg.consent_declined') return turnOf(chat);
  if (result === 'invalid') {
    const unknownHint = chat.replies.length === 0;
    if (unknownHint) chat.reply(chat.t('bot:reg.unknown'));
    chat.reply(prompt(chat, need));
    chat.state.step = { step: `reg.${need.step}` };
    return turnOf(chat);
  }
  need = whatIsNeeded(chat);
  if (need.step === 'phone' && verifiedPhone) {
    await attachPhone(chat, verifiedPhone, true);
    need = whatIsNeeded(chat);
  }
  if (need.step === 'done') {
    if (!chat.participant!.registeredAt) {
      chat.participant = (await participants.updateProfile(ctx.db, chat.participant!.id, { registeredAt: ctx.clock.now() }))!;
      chat.reply(chat.t('bot:reg.done', { name: chat.participant.name }));
    }
    chat.state.step = null;
    if (chat.state.startPayload) return turnOf(chat, { offerStartPayload: {} });
    chat.reply(ctx.mainMenu(chat.participant!, chat.t));
    return turnOf(chat);
  }
  if (fresh || (result === 'not_for_me' && !askedStep)) {
    if (need.step !== 'language') chat.reply(chat.t('bot:reg.welcome', { program: ctx.program.name }));
  }
  chat.reply(prompt(chat, need));
  chat.state.step = { step: `reg.${need.step}` };
  return turnOf(chat);
}

/**
 * Repeats what the conversation is waiting for: the registration question, or the main menu; in a
 * module's step nothing (its last question still stands, its next message continues there).
 */
export function showCurrent(chat: ChatDraft, options: { afterLanguage?: boolean } = {}): void {
  const { ctx } = chat;
  if (needsRegistration(chat)) {
    const need = whatIsNeeded(chat);
    if (need.step === 'done') return;
    if (options.afterLanguage && need.step === 'consent' && chat.state.step?.step === 'reg.language') {
      chat.reply(chat.t('bot:reg.welcome', { program: ctx.program.name }));
    }
    chat.reply(prompt(chat, need));
    chat.state.step = { step: `reg.${need.step}` };
    return;
  }
  const step = chat.state.step;
  if (!step || !ctx.isModuleStep(step.step)) {
    chat.state.step = null;
    chat.reply(ctx.mainMenu(chat.participant!, chat.t));
  }
}

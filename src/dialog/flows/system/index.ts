/**
 * The system flow: what works from anywhere in a conversation, registered or not: /start, /help,
 * /menu, /language, /mydata, /delete (with its confirmation step `sys.delete`), the language
 * buttons, help, unsupported messages, and for registered participants "my balance", the slots
 * no module fills yet and stale buttons. Like every flow it returns what it decided (`ChatTurn`);
 * its writes go through the participants service on the message's transaction.
 */
import { LOCALES } from '../../../i18n/index.js';
import { isRegistered } from '../../../domain/participants/index.js';
import type { ChatContext, ChatTurn, StepState } from '../../flow.js';
import { draftOf, turnOf, type ChatDraft } from '../chat-draft.js';
import { continueRegistration, needsRegistration, showCurrent } from '../registration/index.js';
import { balanceMessage, helpText, languageChoices, myData } from './answers.js';

/** A global command; undefined when `name` is not one (it is then treated as unknown input). */
export async function onCommand(ctx: ChatContext, name: string, payload: string | undefined): Promise<ChatTurn | undefined> {
  const chat = draftOf(ctx);
  switch (name) {
    case 'start': {
      if (payload) chat.state.startPayload = payload.slice(0, 128);
      if (!needsRegistration(chat)) {
        const menuText = chat.t('bot:welcome_back', { name: chat.participant!.name });
        chat.state.step = null;
        if (chat.state.startPayload) return turnOf(chat, { offerStartPayload: { menuText } });
        chat.reply(ctx.mainMenu(chat.participant!, chat.t, menuText));
        return turnOf(chat);
      }
      return continueRegistration(chat);
    }
    case 'help':
      chat.reply(helpText(chat.t, ctx.program));
      showCurrent(chat);
      return turnOf(chat);
    case 'menu':
      if (!needsRegistration(chat)) {
        chat.state.step = null;
        chat.reply(ctx.mainMenu(chat.participant!, chat.t));
        return turnOf(chat);
      }
      return continueRegistration(chat);
    case 'language':
    case 'lang':
      chat.reply(languageChoices(ctx.translate, chat.t));
      return turnOf(chat);
    case 'mydata':
      if (chat.participant) chat.reply(await myData(chat, chat.participant, ctx.balances));
      else chat.reply(chat.t('bot:mydata.nothing'));
      return turnOf(chat);
    case 'delete':
      if (!chat.participant) {
        chat.reply(chat.t('bot:delete.nothing'));
        chat.state = { step: null };
        return turnOf(chat);
      }
      chat.state.step = { step: 'sys.delete', data: { back: chat.state.step ?? null } };
      chat.reply({
        text: chat.t('bot:delete.confirm'),
        choices: [[{ label: chat.t('bot:delete.yes'), value: 'sys:delete_yes' }], [{ label: chat.t('bot:delete.no'), value: 'sys:delete_no' }]],
      });
      return turnOf(chat);
    default:
      return undefined;
  }
}

/** Buttons and messages answered the same at any point: language, help, what cannot be read. */
export async function anytime(ctx: ChatContext): Promise<ChatTurn | undefined> {
  const { inbound } = ctx;
  const choice = inbound.kind === 'choice' ? inbound.value : undefined;
  if (choice?.startsWith('lang:')) {
    const chat = draftOf(ctx);
    await setLanguage(chat, choice.slice(5));
    return turnOf(chat);
  }
  if (choice === 'menu:language') {
    const chat = draftOf(ctx);
    chat.reply(languageChoices(ctx.translate, chat.t));
    return turnOf(chat);
  }
  if (choice === 'menu:help' || inbound.kind === 'unsupported') {
    const chat = draftOf(ctx);
    chat.reply(choice === 'menu:help' ? helpText(chat.t, ctx.program) : chat.t('bot:unsupported'));
    showCurrent(chat);
    return turnOf(chat);
  }
  return undefined;
}

/**
 * The answer to "really delete?": yes erases, no goes back to where the chat was; anything else
 * goes back there too and is handled as if the question had not been asked (`pass`).
 */
export async function confirmDelete(ctx: ChatContext): Promise<ChatTurn> {
  const { inbound } = ctx;
  const chat = draftOf(ctx);
  const back = (chat.state.step?.data?.back as StepState | null | undefined) ?? null;
  if (inbound.kind === 'choice' && inbound.value === 'sys:delete_yes' && chat.participant) {
    await ctx.services.participants.erase(ctx.db, chat.participant.id);
    chat.erased = true;
    chat.participant = null;
    chat.reply(chat.t('bot:delete.done'));
    return turnOf(chat);
  }
  chat.state.step = back;
  if (inbound.kind === 'choice' && inbound.value === 'sys:delete_no') {
    chat.reply(chat.t('bot:delete.kept'));
    showCurrent(chat);
    return turnOf(chat);
  }
  return turnOf(chat, { pass: true });
}

/** The main menu's own buttons, for registered participants; undefined for a module's choice. */
export async function onMenuChoice(ctx: ChatContext, value: string): Promise<ChatTurn | undefined> {
  const participant = ctx.participant;
  if (!participant || !isRegistered(participant)) return undefined;
  const chat = draftOf(ctx);
  if (value === 'menu:balance') {
    chat.state.step = null;
    chat.reply(await balanceMessage(chat, participant, ctx.balances));
    chat.reply(ctx.mainMenu(participant, chat.t));
    return turnOf(chat);
  }
  if (value.startsWith('menu:soon:')) {
    chat.state.step = null;
    chat.reply(ctx.mainMenu(participant, chat.t, chat.t('bot:menu.soon')));
    return turnOf(chat);
  }
  if (value === 'menu:main' || value.startsWith('reg:') || value.startsWith('sys:')) {
    // A stale button from registration or a finished dialog: show where we are.
    chat.state.step = null;
    chat.reply(ctx.mainMenu(participant, chat.t));
    return turnOf(chat);
  }
  return undefined;
}

async function setLanguage(chat: ChatDraft, value: string): Promise<void> {
  const { ctx } = chat;
  const locale = LOCALES.find((l) => l === value);
  if (!locale) return;
  if (chat.participant) chat.participant = (await ctx.services.participants.setLocale(ctx.db, chat.participant.id, locale))!;
  else chat.state.pre = { ...chat.state.pre, locale };
  chat.relocalize();
  chat.reply(chat.t('bot:language.set'));
  showCurrent(chat, { afterLanguage: true });
}

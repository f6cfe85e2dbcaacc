/**
 * The bot's command menus: everyone's commands in each language Punkto speaks (and the default
 * language for the rest), and managers' own chats with /broadcast added, kept up to date as
 * managers come and go.
 */
import type { Api } from 'grammy';
import type { BotCommand } from 'grammy/types';
import type { I18n, Locale } from '../../i18n/index.js';
import { LOCALES } from '../../i18n/index.js';
import type { Logger } from '../../shared/logger.js';

/** Commands shown in Telegram's menu, in this order; descriptions are `telegram:commands.<name>`. */
export const BOT_COMMANDS = ['start', 'menu', 'help', 'language', 'mute', 'unmute', 'mydata', 'delete'] as const;
/** What a program manager's own chat shows: everyone's commands and composing a broadcast. */
export const MANAGER_COMMANDS = [...BOT_COMMANDS, 'broadcast'] as const;

/** The command list for one language, read from `locales/<lng>/telegram.json`. */
export function commandsFor(i18n: I18n, locale: Locale, commands: readonly string[] = BOT_COMMANDS): BotCommand[] {
  const t = i18n.t(locale);
  return commands.map((command) => ({ command, description: t(`telegram:commands.${command}`) }));
}

export interface CommandMenus {
  /** All menus; a failure is logged, never thrown (commands are a convenience). */
  setCommands(): Promise<void>;
  setManagerCommands(): Promise<void>;
}

export function createCommandMenus(deps: {
  api: Api;
  i18n: I18n;
  defaultLocale: Locale;
  log: Logger;
  managerChats?: () => Promise<Array<{ chatId: string; locale: Locale }>>;
}): CommandMenus {
  const { api, log } = deps;
  async function setCommands(): Promise<void> {
    try {
      for (const locale of LOCALES) {
        // Telegram's language_code is the bare language: the Portuguese list is the program's variant.
        if (locale === 'pt-PT' || locale === 'pt-BR') {
          if (locale !== (deps.defaultLocale === 'pt-BR' ? 'pt-BR' : 'pt-PT')) continue;
          await api.setMyCommands(commandsFor(deps.i18n, locale), { language_code: 'pt' });
          continue;
        }
        await api.setMyCommands(commandsFor(deps.i18n, locale), { language_code: locale });
      }
      // Everyone else (a language Punkto does not speak) sees the program's default language.
      await api.setMyCommands(commandsFor(deps.i18n, deps.defaultLocale));
    } catch (error) {
      // Commands are a convenience; a failure must not keep the bot from answering.
      log.warn({ err: error }, 'telegram: setMyCommands failed');
    }
    await setManagerCommands();
  }

  // Chats given the managers' menu, with its language; a chat that is no longer a manager's gets
  // the everyone menu back.
  const managerMenus = new Map<string, Locale>();
  async function setManagerCommands(): Promise<void> {
    if (!deps.managerChats) return;
    try {
      const now = new Map((await deps.managerChats()).map((m) => [m.chatId, m.locale] as const));
      for (const [chatId, locale] of now) {
        if (managerMenus.get(chatId) === locale) continue;
        await api.setMyCommands(commandsFor(deps.i18n, locale, MANAGER_COMMANDS), { scope: { type: 'chat', chat_id: chatId } });
        managerMenus.set(chatId, locale);
      }
      for (const chatId of [...managerMenus.keys()]) {
        if (now.has(chatId)) continue;
        await api.deleteMyCommands({ scope: { type: 'chat', chat_id: chatId } });
        managerMenus.delete(chatId);
      }
    } catch (error) {
      log.warn({ err: error }, 'telegram: setting the managers’ commands failed');
    }
  }
  return { setCommands, setManagerCommands };
}

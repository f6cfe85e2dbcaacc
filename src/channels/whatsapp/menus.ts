/**
 * The menu in front of each WhatsApp participant (how menus are written and read back is
 * channels/numbered-menu.ts). It is kept in Postgres: any process may receive the answer, and a
 * restart must not forget it; a message sent without choices clears it, so a later "2" typed as a
 * quantity is not mistaken for an old menu pick.
 */
import type { Db } from '../../db/sql.js';
import * as menus from '../../db/whatsapp/menus-repo.js';
import type { MenuOption } from '../numbered-menu.js';

/** How long an unanswered menu still maps numbers to choices. */
export const MENU_TTL_MS = 24 * 60 * 60 * 1000;

export interface MenuStore {
  /** Remembers `options` as the menu in front of the participant; empty options forget it. */
  remember(externalId: string, options: MenuOption[]): Promise<void>;
  current(externalId: string, now?: Date): Promise<MenuOption[]>;
}

export function createMenuStore(db: Db, ttlMs = MENU_TTL_MS): MenuStore {
  return {
    async remember(externalId, options) {
      if (options.length === 0) await menus.deleteMenu(db, externalId);
      else await menus.saveMenu(db, externalId, options);
    },
    async current(externalId, now = new Date()) {
      const row = await menus.menuOf(db, externalId);
      if (!row || now.getTime() - row.sentAt.getTime() > ttlMs) return [];
      return row.options;
    },
  };
}

/**
 * Numbered menus: WhatsApp has no working buttons for unofficial clients, so choices are sent as
 * "1. …" lines and the participant answers with the number or the option's text. The last menu sent
 * to each participant is kept in Postgres (any process may receive the answer, and a restart must not
 * forget it); a message sent without choices clears it, so a later "2" typed as a quantity is not
 * mistaken for an old menu pick.
 */
import type { Db } from '../../db/sql.js';
import * as menus from '../../db/whatsapp/menus-repo.js';
import type { Choice } from '../../dialog/types.js';

export interface MenuOption {
  label: string;
  value: string;
}

/** How long an unanswered menu still maps numbers to choices. */
export const MENU_TTL_MS = 24 * 60 * 60 * 1000;

export const flattenChoices = (rows: Choice[][] | undefined): MenuOption[] =>
  (rows ?? []).flat().map((c) => ({ label: c.label, value: c.value }));

export function renderMenu(options: MenuOption[]): string {
  return options.map((o, i) => `${i + 1}. ${o.label}`).join('\n');
}

/** Case, accents, emoji, punctuation and spacing do not matter when comparing a reply to a label. */
export function normalizeLabel(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const KEYCAP = /^([0-9])\uFE0F?\u20E3$/u;

/**
 * The option a reply picks, if any: "2", "2.", " 2) ", "2️⃣", the label itself, or "2. Label" as
 * copied back from the menu. Anything else is ordinary text.
 */
export function matchMenuReply(options: MenuOption[], reply: string): MenuOption | undefined {
  const text = reply.trim();
  if (!text || options.length === 0) return undefined;
  const keycap = KEYCAP.exec(text);
  const numeric = keycap ? keycap[1] : /^(\d{1,3})\s*[.)]?$/.exec(text)?.[1];
  if (numeric !== undefined) {
    const index = Number(numeric) - 1;
    return options[index];
  }
  const wanted = normalizeLabel(text);
  if (!wanted) return undefined;
  const byLabel = options.filter((o) => normalizeLabel(o.label) === wanted);
  if (byLabel.length === 1) return byLabel[0];
  const echoed = /^(\d{1,3})\s*[.)]\s*(.+)$/s.exec(text);
  if (echoed) {
    const option = options[Number(echoed[1]) - 1];
    if (option && normalizeLabel(option.label) === normalizeLabel(echoed[2]!)) return option;
  }
  return undefined;
}

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

/**
 * The main menu: built-in items (balance, help, language), slots that other modules fill (enter a
 * code, send a receipt, log a sale, rewards) and any extra module items, filtered by role.
 */
import type { Translate } from '../i18n/index.js';
import { STAFF_ROLES, type Participant } from '../domain/participants/index.js';
import type { Choice, Outbound } from './types.js';
import type { Flows, MenuItem, MenuSlot } from './flow.js';

const SLOTS: Array<{ slot: MenuSlot; labelKey: string; order: number; roles?: MenuItem['roles'] }> = [
  { slot: 'code', labelKey: 'bot:menu.code', order: 10 },
  { slot: 'receipt', labelKey: 'bot:menu.receipt', order: 20 },
  { slot: 'sale', labelKey: 'bot:menu.sale', order: 30, roles: STAFF_ROLES },
  { slot: 'rewards', labelKey: 'bot:menu.rewards', order: 50 },
];

const BUILT_IN: MenuItem[] = [
  { labelKey: 'bot:menu.balance', value: 'menu:balance', order: 40 },
  { labelKey: 'bot:menu.help', value: 'menu:help', order: 60 },
  { labelKey: 'bot:menu.language', value: 'menu:language', order: 70 },
];

export function menuItems(flows: Flows, participant: Participant): MenuItem[] {
  const fromModules = flows.menuItems();
  const items: MenuItem[] = [...BUILT_IN];
  for (const s of SLOTS) {
    const claimed = fromModules.filter((i) => i.slot === s.slot);
    if (claimed.length) items.push(...claimed.map((i) => ({ ...i, order: i.order ?? s.order })));
    else items.push({ slot: s.slot, labelKey: s.labelKey, value: `menu:soon:${s.slot}`, order: s.order, roles: s.roles });
  }
  items.push(...fromModules.filter((i) => !i.slot));
  return items
    .filter((i) => !i.roles || (participant.role !== null && i.roles.includes(participant.role)))
    .sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
}

/** Choices two per row: short enough for a phone screen, still one tap each. */
export function inRows(choices: Choice[], perRow = 2): Choice[][] {
  const rows: Choice[][] = [];
  for (let i = 0; i < choices.length; i += perRow) rows.push(choices.slice(i, i + perRow));
  return rows;
}

export function mainMenu(flows: Flows, participant: Participant, t: Translate, text?: string): Outbound {
  const choices = menuItems(flows, participant).map((i) => ({ label: t(i.labelKey), value: i.value }));
  return { text: text ?? t('bot:menu.title'), choices: inRows(choices) };
}

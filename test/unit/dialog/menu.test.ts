import { describe, expect, it } from 'vitest';
import { createFlows } from '../../../src/dialog/flow.js';
import { mainMenu, menuItems } from '../../../src/dialog/menu.js';
import { createI18n } from '../../../src/i18n/index.js';
import { participant } from '../../fakes/flow-context.js';

describe('main menu', () => {
  const t = createI18n({ defaultLocale: 'pl' }).t('pl');
  it('shows "coming soon" slots until a module claims them, and the sale item only to staff', () => {
    const none = createFlows([]);
    expect(menuItems(none, participant()).map((i) => i.value)).toEqual([
      'menu:soon:code', 'menu:soon:receipt', 'menu:balance', 'menu:soon:rewards', 'menu:help', 'menu:language',
    ]);
    expect(menuItems(none, participant({ role: 'installer' })).map((i) => i.value)).toContain('menu:soon:sale');
    const codes = createFlows([{ id: 'codes', menu: [{ slot: 'code', labelKey: 'bot:menu.code', value: 'codes:enter' }, { labelKey: 'bot:menu.help', value: 'codes:extra', order: 99 }] }]);
    const values = menuItems(codes, participant()).map((i) => i.value);
    expect(values[0]).toBe('codes:enter');
    expect(values).not.toContain('menu:soon:code');
    expect(values.at(-1)).toBe('codes:extra');
  });
  it('lays buttons out two per row with localized labels', () => {
    const m = mainMenu(createFlows([]), participant(), t);
    expect(m.text).toBe('Menu główne. Co chcesz zrobić?');
    expect(m.choices!.every((row) => row.length <= 2)).toBe(true);
    expect(m.choices!.flat().map((c) => c.label)).toContain('💰 Moje punkty');
  });
});

import { describe, expect, it } from 'vitest';
import { matchMenuReply, menuOptions, renderMenu } from '../../../src/channels/numbered-menu.js';

const cancelOnly = [[{ label: 'Cancelar', value: 'sales:cancel' }]];
const amounts = [[{ label: '50 zł · 500', value: 'rewards:amt:50' }, { label: '60 zł · 600', value: 'rewards:amt:60' }], [{ label: 'Anuluj', value: 'rewards:no' }]];

describe('numbered menus and free answers', () => {
  it('a menu picks its options by number, keycap, label or "n. label"', () => {
    const menu = menuOptions({ choices: cancelOnly });
    expect(renderMenu(menu)).toBe('1. Cancelar');
    expect(matchMenuReply(menu, '1')?.value).toBe('sales:cancel');
    expect(matchMenuReply(menu, '1️⃣')?.value).toBe('sales:cancel');
    expect(matchMenuReply(menu, '1. Cancelar')?.value).toBe('sales:cancel');
  });

  it('a message that expects a free answer lists its options without numbers, and a typed number is the answer', () => {
    const menu = menuOptions({ choices: cancelOnly, answer: 'free' });
    expect(renderMenu(menu)).toBe('• Cancelar');
    for (const typed of ['1', '1.', '1️⃣', '2', '1. Cancelar']) expect(matchMenuReply(menu, typed)).toBeUndefined();
    expect(matchMenuReply(menu, ' cancelar ')?.value).toBe('sales:cancel');
  });

  it('a cash-out amount typed as a number is the amount, not the option at that position', () => {
    const menu = menuOptions({ choices: amounts, answer: 'free' });
    expect(matchMenuReply(menu, '2')).toBeUndefined();
    expect(matchMenuReply(menu, '50')).toBeUndefined();
    expect(matchMenuReply(menu, 'anuluj')?.value).toBe('rewards:no');
  });
});

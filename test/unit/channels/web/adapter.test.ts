import { describe, expect, it } from 'vitest';
import { webToInbound } from '../../../../src/channels/web/adapter.js';
import type { Sql } from '../../../../src/db/sql.js';

describe('web chat input', () => {
  const sql = {} as Sql;
  const from = { chatId: 'wabc', localeHint: 'pt-PT' };
  it('turns page input into Inbound messages: commands with payloads, texts, choices', () => {
    expect(webToInbound(sql, { kind: 'text', text: '/start c_12' }, from, 'm1')).toMatchObject({ kind: 'command', command: 'start', payload: 'c_12', messageId: 'm1', from: { channel: 'web', externalId: 'wabc', localeHint: 'pt-PT' } });
    expect(webToInbound(sql, { kind: 'text', text: '/MyData' }, from, 'm2')).toMatchObject({ kind: 'command', command: 'mydata' });
    expect(webToInbound(sql, { kind: 'text', text: '  olá  ' }, from, 'm3')).toMatchObject({ kind: 'text', text: 'olá' });
    expect(webToInbound(sql, { kind: 'choice', value: 'menu:balance' }, from, 'm4')).toMatchObject({ kind: 'choice', value: 'menu:balance' });
    expect(webToInbound(sql, { kind: 'text', text: '/ 12' }, from, 'm5')).toMatchObject({ kind: 'text' });
  });
});

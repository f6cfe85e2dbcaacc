import { describe, expect, it } from 'vitest';
import * as system from '../../../../src/dialog/flows/system/index.js';
import type { Db } from '../../../../src/db/sql.js';
import type { Locale } from '../../../../src/i18n/index.js';
import { fakeChatContext, i18n, message, MESSAGE_TX, participant, participantsFake } from '../../../fakes/flow-context.js';

const pl = i18n.t('pl');

describe('the system flow as a unit', () => {
  it('/delete asks first and remembers where the chat was; "yes" erases on the message transaction', async () => {
    const ania = participant();
    const asked = await system.onCommand(
      fakeChatContext({ inbound: message({ kind: 'command', command: 'delete' }), conversation: { step: { step: 'rewards.pick', data: { page: 2 } } } }),
      'delete',
      undefined,
    );
    expect(asked!.replies).toEqual([
      {
        text: pl('bot:delete.confirm'),
        choices: [[{ label: pl('bot:delete.yes'), value: 'sys:delete_yes' }], [{ label: pl('bot:delete.no'), value: 'sys:delete_no' }]],
      },
    ]);
    expect(asked!.next).toEqual({ step: 'sys.delete', data: { back: { step: 'rewards.pick', data: { page: 2 } } } });

    const erased: Array<{ db: Db; id: string }> = [];
    const participants = participantsFake({ erase: async (db, id) => void erased.push({ db, id }) });
    const done = await system.confirmDelete(
      fakeChatContext({ inbound: message({ kind: 'choice', value: 'sys:delete_yes' }), participant: ania, conversation: { step: asked!.next as never }, services: { participants } }),
    );
    expect(erased).toEqual([{ db: MESSAGE_TX, id: ania.id }]);
    expect(done).toMatchObject({ erased: true, participant: null, replies: [{ text: pl('bot:delete.done') }] });
    expect(done.pass).toBeUndefined();
  });

  it('"no" keeps everything and goes back; anything else goes back and lets the router go on', async () => {
    const back = { step: 'sys.delete', data: { back: null } };
    const kept = await system.confirmDelete(fakeChatContext({ inbound: message({ kind: 'choice', value: 'sys:delete_no' }), conversation: { step: back } }));
    expect(kept.erased).toBe(false);
    expect(kept.replies![0]).toEqual({ text: pl('bot:delete.kept') });
    // Back at the main menu: the chat was idle before /delete.
    expect((kept.replies![1] as { text: string }).text).toBe(pl('bot:menu.title'));
    expect(kept.next).toBe('idle');

    const other = await system.confirmDelete(fakeChatContext({ inbound: message({ kind: 'text', text: 'K7QM-3XW9-T' }), conversation: { step: back } }));
    expect(other).toMatchObject({ pass: true, replies: [], next: 'idle', erased: false });
  });

  it('a language button sets the participant’s language through the service and answers in the new one', async () => {
    const set: Array<{ db: Db; id: string; locale: Locale }> = [];
    const participants = participantsFake({
      setLocale: async (db, id, locale) => {
        set.push({ db, id, locale });
        return participant({ locale });
      },
    });
    const turn = await system.anytime(fakeChatContext({ inbound: message({ kind: 'choice', value: 'lang:pt-PT' }), services: { participants } }));
    expect(set).toEqual([{ db: MESSAGE_TX, id: 'p-1', locale: 'pt-PT' }]);
    expect(turn!.participant!.locale).toBe('pt-PT');
    expect(turn!.replies![0]).toEqual({ text: i18n.t('pt-PT')('bot:language.set') });
    expect((turn!.replies![1] as { text: string }).text).toBe(i18n.t('pt-PT')('bot:menu.title'));
  });

  it('before anyone registered, a language is kept in the chat and nothing is written', async () => {
    const turn = await system.anytime(fakeChatContext({ inbound: message({ kind: 'choice', value: 'lang:be' }), participant: null }));
    expect(turn!.pre).toEqual({ locale: 'be' });
    expect(turn!.replies![0]).toEqual({ text: i18n.t('be')('bot:language.set') });
    // Then the next registration question, in Belarusian: the consent.
    expect(turn!.next).toEqual({ step: 'reg.consent' });
    expect(await system.anytime(fakeChatContext({ inbound: message({ kind: 'choice', value: 'lang:xx' }), participant: null }))).toMatchObject({ replies: [], pre: undefined });
  });

  it('/delete with nobody registered says so and forgets the chat’s state; an unknown command is not the system’s', async () => {
    const nothing = await system.onCommand(
      fakeChatContext({ inbound: message({ kind: 'command', command: 'delete' }), participant: null, conversation: { step: { step: 'reg.phone' }, pre: { locale: 'pl' } } }),
      'delete',
      undefined,
    );
    expect(nothing).toMatchObject({ replies: [{ text: pl('bot:delete.nothing') }], next: 'idle', pre: undefined });
    expect(await system.onCommand(fakeChatContext({ inbound: message({ kind: 'command', command: 'frobnicate' }) }), 'frobnicate', undefined)).toBeUndefined();
  });
});

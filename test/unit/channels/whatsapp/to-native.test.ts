import { describe, expect, it } from 'vitest';
import { whatsappToNative, CAPTION_LIMIT } from '../../../../src/channels/whatsapp/to-native.js';
import { createI18n } from '../../../../src/i18n/index.js';

const i18n = createI18n({ defaultLocale: 'pl' });

describe('Outbound → WhatsApp', () => {
  it('numbers the choices and asks for the number in the participant’s language', () => {
    const out = whatsappToNative(
      { text: 'O que deseja fazer?', choices: [[{ label: 'Inserir código', value: 'codes:enter' }], [{ label: 'Saldo', value: 'menu:balance' }, { label: 'Prémios', value: 'rewards:list' }]] },
      i18n.t('pt-PT'),
    );
    expect(out.parts).toEqual([
      { kind: 'text', text: 'O que deseja fazer?\n\n1. Inserir código\n2. Saldo\n3. Prémios\n\n_Responda com um número de 1 a 3 ou com o nome da opção._' },
    ]);
    expect(out.menu.map((m) => m.value)).toEqual(['codes:enter', 'menu:balance', 'rewards:list']);
  });

  it('has the hint in Polish and Belarusian, and a single-option wording', () => {
    const pl = whatsappToNative({ text: 'Wybierz', choices: [[{ label: 'Tak', value: 'y' }, { label: 'Nie', value: 'n' }]] }, i18n.t('pl'));
    expect(pl.parts[0]).toMatchObject({ text: expect.stringContaining('Odpowiedz numerem od 1 do 2') });
    const be = whatsappToNative({ text: 'Абярыце', choices: [[{ label: 'Так', value: 'y' }]] }, i18n.t('be'));
    expect(be.parts[0]).toMatchObject({ text: expect.stringContaining('Адкажыце лічбай 1') });
  });

  it('sends only the text for a phone request (WhatsApp already knows the number) and forgets menus', () => {
    const out = whatsappToNative({ text: 'Partilhe o seu número', requestPhone: { label: 'Partilhar' } }, i18n.t('pt-PT'));
    expect(out).toEqual({ parts: [{ kind: 'text', text: 'Partilhe o seu número' }], menu: [] });
  });

  it('puts the text under an image, or after it when too long for a caption', () => {
    const short = whatsappToNative({ text: 'Novo prémio!', image: { url: 'https://x/p.jpg' } }, i18n.t('pt-PT'));
    expect(short.parts).toEqual([{ kind: 'image', image: { url: 'https://x/p.jpg' }, caption: 'Novo prémio!' }]);
    const long = whatsappToNative({ text: 'x'.repeat(CAPTION_LIMIT + 1), image: { mediaKey: 'k' } }, i18n.t('pt-PT'));
    expect(long.parts.map((p) => p.kind)).toEqual(['image', 'text']);
  });
});

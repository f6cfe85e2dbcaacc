import { describe, expect, it } from 'vitest';
import { muteIntent, pickText, renderFor, retryDelayMs } from '../../../../src/domain/broadcasts/index.js';

describe('broadcast texts', () => {
  it('gives each reader their language, else the program default, else any text given', () => {
    const texts = { pl: 'Cześć', pt: 'Olá' };
    expect(pickText(texts, 'pt-PT', 'pl')).toBe('Olá');
    expect(pickText(texts, 'be', 'pl')).toBe('Cześć');
    expect(pickText({ pt: 'Olá' }, 'be', 'pl')).toBe('Olá');
    expect(pickText({ pl: '  ' }, 'pl', 'pl')).toBeUndefined();
  });

  it('puts links under the text and menu actions on buttons, labels in the reader’s language', () => {
    const out = renderFor(
      {
        message: { texts: { pl: 'Nowość!', pt: 'Novidade!' } },
        image: null,
        buttons: [
          { label: { pl: 'Regulamin', pt: 'Regulamento' }, url: 'https://example.com/r' },
          { label: { pl: 'Nagrody', pt: 'Prémios' }, action: 'rewards:list' },
        ],
      },
      { locale: 'pt-PT' },
      'pl',
      () => 'unused',
    );
    expect(out).toEqual({ text: 'Novidade!\n\nRegulamento: https://example.com/r', choices: [[{ label: 'Prémios', value: 'rewards:list' }]] });
  });

  it('renders automatic messages from a template with the recipient’s own values', () => {
    const out = renderFor({ message: { template: { key: 'k', params: { a: 1 } } }, image: null, buttons: null }, { locale: 'be', params: { points: 5 } }, 'pl', (key, p) =>
      `${key}:${JSON.stringify(p)}`,
    );
    expect(out!.text).toBe('k:{"a":1,"points":5}');
  });
});

describe('mute words', () => {
  it('knows STOP and START in every language when they are the whole message', () => {
    for (const w of ['STOP', 'stop', 'Parar', 'PARAR!', 'СТОП', 'стоп.']) expect(muteIntent(w), w).toBe('mute');
    for (const w of ['START', 'Novidades', 'СТАРТ', 'старт!']) expect(muteIntent(w), w).toBe('unmute');
    for (const w of ['stop it', 'bus stop please', 'ABC-123', '', 'startup']) expect(muteIntent(w), w).toBeUndefined();
  });

  it('leaves everyday words to the conversation they belong to', () => {
    // Answers and button labels of other flows ("Cancelar" in a sale, "Sair", "wyłącz", "спыніць").
    for (const w of ['Cancelar', 'sair', 'pare', 'wyłącz', 'wypisz', 'włącz', 'wznów', 'ativar', 'voltar', 'Voltar', 'retomar', 'спыніць', 'уключыць', 'адпісацца', 'падпісацца']) {
      expect(muteIntent(w), w).toBeUndefined();
    }
  });
});

describe('retry delays', () => {
  it('grow exponentially with jitter and stay under five minutes', () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(2000);
    expect(retryDelayMs(3, () => 0.5)).toBe(8000);
    expect(retryDelayMs(30, () => 1)).toBeLessThanOrEqual(360_000);
    expect(retryDelayMs(2, () => 0)).toBe(3200);
  });
});

/**
 * The Polish and Belarusian editors' rules that a script can hold (issue 21, native reviews): one
 * term per concept, one bot persona, no button on a channel that has none, typography. A text that
 * brings back a word the reviewers struck out fails here, with its key.
 */
import { describe, expect, it } from 'vitest';
import { flatten } from '../../helpers/locale-keys.js';
import { loadResources } from '../../../src/i18n/index.js';


const resources = loadResources() as Record<string, Record<string, unknown>>;
const texts = (lng: 'pl' | 'be'): [string, string][] =>
  Object.entries(resources[lng]!).flatMap(([ns, tree]) =>
    Object.entries(flatten(tree as Record<string, unknown>)).map(([k, v]) => [`${ns}:${k}`, v] as [string, string]),
  );

/**
 * Keys whose text is shown only where a participant does have a button: Telegram's phone request,
 * and a text that has its own WhatsApp variant (`key_whatsapp`, i18next context) for the numbered menu.
 */
function buttonsAllowed(lng: 'pl' | 'be'): (key: string) => boolean {
  const keys = new Set(texts(lng).map(([k]) => k));
  return (key) => /^bot:reg\.phone(_not_own)?$/.test(key) || keys.has(`${key}_whatsapp`) || /_(telegram|web)$/.test(key);
}

function offending(lng: 'pl' | 'be', pattern: RegExp, allow?: (key: string) => boolean): string[] {
  return texts(lng)
    .filter(([k, v]) => pattern.test(v) && !allow?.(k))
    .map(([k, v]) => `${k}: ${v}`);
}

describe('Polish wording', () => {
  it('speaks as "we", never as a man or a woman', () => {
    // "zrozumiałem", "Zmieniłem(-am)": the bot is the program team, and a button is not a form
    expect(offending('pl', /\b\p{L}+(łem|łam)\b|\(-am\)|\(-a\)/u)).toEqual([]);
  });

  it('uses one term per concept and one name for the contact point', () => {
    expect(offending('pl', /opiekun|menedżer akcji|do wydania|wyciszon|\bsaldo\b/iu)).toEqual([]);
  });

  it('mentions buttons only where the channel has them', () => {
    expect(offending('pl', /przycisk|kliknij|pod wiadomością/iu, buttonsAllowed('pl'))).toEqual([]);
  });

  it('sets the spaced en dash, as Polish typography does', () => {
    expect(offending('pl', / — /u)).toEqual([]);
  });
});

describe('Belarusian wording', () => {
  it('speaks as "мы", never as a man', () => {
    expect(offending('be', /(^|[^\p{L}])я([^\p{L}]|$)|зразумеў|перадумаў/iu)).toEqual([]);
  });

  it('uses one term per concept and one name for the contact point', () => {
    // заказ → замова, вывад → выплата, самавываз → забраць у краме, пацверджанне → зацвярджэнне
    expect(
      offending('be', /заказ|вывад|вывес|самавываз|пацверджанн|(^|[^\p{L}])прыз(ы|а|у|ам|аў|амі|е)?([^\p{L}]|$)|кліент|куратар|фонд балаў|асабіст/iu),
    ).toEqual([]);
  });

  it('mentions buttons only where the channel has them', () => {
    expect(offending('be', /кнопк|націсніце|пад паведамленнем/iu, buttonsAllowed('be'))).toEqual([]);
  });

  it('never ends a sentence right after a date, which already ends in "г."', () => {
    expect(offending('be', /, date\}\}\./u)).toEqual([]);
  });
});

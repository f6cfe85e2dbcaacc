import { describe, expect, it } from 'vitest';
import { localeFromAcceptLanguage } from '../../../../src/http/routes/webchat.js';

describe('web chat input', () => {
  it('picks the browser language among pl, pt, be by preference', () => {
    expect(localeFromAcceptLanguage('de, be;q=0.5, pt;q=0.6', 'pl')).toBe('pt-PT');
    expect(localeFromAcceptLanguage('en-GB', 'be')).toBe('be');
    expect(localeFromAcceptLanguage(undefined, 'pt-PT')).toBe('pt-PT');
  });
});

import { describe, expect, it } from 'vitest';

describe('program language', () => {
  it('DEFAULT_LOCALE decides the default program’s language; other programs keep their own', async () => {
    const { toProgramInfo } = await import('../../../../src/services/participants/program.js');
    const row = { id: 'g', slug: 'default', name: 'P', defaultLocale: 'pl', timeZone: 'UTC', termsVersion: '1', settings: {} };
    expect(toProgramInfo(row, 'be').defaultLocale).toBe('be');
    expect(toProgramInfo({ ...row, slug: 'brand-x', defaultLocale: 'pt-PT' }, 'be').defaultLocale).toBe('pt-PT');
  });
});

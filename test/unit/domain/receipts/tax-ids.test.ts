import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  brAccessKeyDv,
  isValidBrAccessKey,
  isValidBrCnpj,
  isValidByUnp,
  isValidKsefNumber,
  isValidPlNip,
  isValidPtNif,
  normalizeTaxId,
} from '../../../../src/domain/receipts/index.js';

// Vectors from notes/receipts.md (worked examples, published keys, constructed ones).
describe('PT NIF', () => {
  it.each(['123456789', '999999990', '509442013', '245678913', '100000002', 'PT509442013'])('accepts %s', (nif) => {
    expect(isValidPtNif(nif)).toBe(true);
  });
  it.each(['123456788', '12345678', '1234567890', '12345678A', ''])('rejects %s', (nif) => {
    expect(isValidPtNif(nif)).toBe(false);
  });
  it('catches every change of the check digit', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{8}$/), (prefix) => {
        const valid = [...'0123456789'].filter((d) => isValidPtNif(prefix + d));
        expect(valid).toHaveLength(1);
      }),
    );
  });
});

describe('PL NIP', () => {
  it.each(['1234563218', '5260250274', '1111111111', '7770000005', '9520000005', 'PL 526-025-02-74', '526-025-02-74'])('accepts %s', (nip) => {
    expect(isValidPlNip(nip)).toBe(true);
  });
  it.each(['5260250275', '123456321', '12345632189', 'ABCDEFGHIJ'])('rejects %s', (nip) => {
    expect(isValidPlNip(nip)).toBe(false);
  });
  it('has at most one valid check digit, none when the checksum is 10', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), (prefix) => {
        const valid = [...'0123456789'].filter((d) => isValidPlNip(prefix + d));
        expect(valid.length).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('BY UNP', () => {
  it.each(['200988541', 'MA1953684', '190000005', '100500004', '791275006', 'МА1953684', 'УНП 190000005'])('accepts %s', (unp) => {
    expect(isValidByUnp(unp)).toBe(true);
  });
  it('rejects a wrong check digit, a bad region, and the prefix whose checksum is 10', () => {
    expect(isValidByUnp('200988542')).toBe(false);
    expect(isValidByUnp('900988541')).toBe(false);
    for (const d of '0123456789') expect(isValidByUnp(`69000001${d}`)).toBe(false);
    // OCR misread from the notes: one digit too many.
    expect(isValidByUnp('1906000005')).toBe(false);
  });
});

describe('BR CNPJ and access key', () => {
  it('validates numeric and alphanumeric CNPJs', () => {
    expect(isValidBrCnpj('11.222.333/0001-81')).toBe(true);
    expect(isValidBrCnpj('12ABC34501DE35')).toBe(true);
    expect(isValidBrCnpj('11222333000182')).toBe(false);
    expect(isValidBrCnpj('12ABC34501DE36')).toBe(false);
    expect(isValidBrCnpj('00000000000000')).toBe(false);
  });
  it('computes the key check digit of the MOC worked example', () => {
    expect(brAccessKeyDv('5206043300991100250655012000000780026730161')).toBe(5);
  });
  it.each([
    '13181017921427000125650010000000309887251170',
    '41150876497338001649650010000005351770691965',
    '35260911222333000181650010000012341123456780',
    '35260911222333000181650010000012359876543216',
    '35260911222333000181650010000012341123456798',
    // Alphanumeric CNPJ (from July 2026): value = ASCII − 48.
    '35260912ABC34501DE35650010000012341123456799',
  ])('accepts key %s', (key) => {
    expect(isValidBrAccessKey(key)).toBe(true);
  });
  it('rejects a key with any other last digit, a lower-case letter or a letter where digits belong', () => {
    const key = '35260911222333000181650010000012341123456798';
    for (const d of '012345679') expect(isValidBrAccessKey(key.slice(0, 43) + d)).toBe(false);
    expect(isValidBrAccessKey('3526A911222333000181650010000012341123456798')).toBe(false);
    expect(isValidBrAccessKey(key.slice(0, 43))).toBe(false);
  });
});

describe('KSeF number', () => {
  it('checks the CRC-8', () => {
    expect(isValidKsefNumber('5265877635-20250826-0100001AF629-AF')).toBe(true);
    expect(isValidKsefNumber('1234563218-20260918-0A1B2C3D4E5F-9A')).toBe(true);
    expect(isValidKsefNumber('5265877635-20250826-0100001AF629-AE')).toBe(false);
    expect(isValidKsefNumber('5265877635-20250826-0100001AF628-AF')).toBe(false);
  });
});

describe('normalizeTaxId', () => {
  it('lets a manager type seller ids with prefixes and separators', () => {
    expect(normalizeTaxId('PL', 'PL 123-456-32-18')).toBe('1234563218');
    expect(normalizeTaxId('PT', 'PT 509442013')).toBe('509442013');
    expect(normalizeTaxId('BR', '11.222.333/0001-81')).toBe('11222333000181');
    expect(normalizeTaxId('BY', 'ма1953684')).toBe('MA1953684');
  });
});

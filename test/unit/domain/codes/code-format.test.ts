import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  ALPHABET,
  bodiesFromBytes,
  checkSymbol,
  extractCodes,
  formatCode,
  isValidCanonical,
  normalizeCode,
} from '../../../../src/domain/codes/code-format.js';

const body = fc.array(fc.constantFrom(...ALPHABET), { minLength: 6, maxLength: 26 }).map((a) => a.join(''));
const withCheck = (b: string) => b + checkSymbol(b);

describe('code check symbol (GF(32) weighted check)', () => {
  it('catches every single-symbol substitution, exhaustively on random codes', () => {
    fc.assert(
      fc.property(body, (b) => {
        const code = withCheck(b);
        for (let i = 0; i < code.length; i++) {
          for (const s of ALPHABET) {
            if (s === code[i]) continue;
            const typo = code.slice(0, i) + s + code.slice(i + 1);
            if (isValidCanonical(typo)) return false;
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('catches every transposition of two different adjacent symbols, including the check symbol', () => {
    fc.assert(
      fc.property(body, (b) => {
        const code = withCheck(b);
        for (let i = 0; i + 1 < code.length; i++) {
          if (code[i] === code[i + 1]) continue;
          const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
          if (isValidCanonical(swapped)) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('generated codes are valid and use only the alphabet, without I, L, O, U', () => {
    const codes = bodiesFromBytes(randomBytes(8 * 1000), 1000, 8, 'AB');
    for (const c of codes) {
      expect(c).toMatch(/^AB[0-9A-HJKMNP-TV-Z]{8}[0-9A-HJKMNP-TV-Z]$/);
      expect(isValidCanonical(c)).toBe(true);
    }
    expect(new Set(codes).size).toBeGreaterThan(990);
  });
});

describe('formatting and normalisation', () => {
  it('prints groups of four with the check symbol last', () => {
    expect(formatCode('K7QM3XW9' + checkSymbol('K7QM3XW9'))).toBe(`K7QM-3XW9-${checkSymbol('K7QM3XW9')}`);
  });

  it('reads what people type: case, spaces, dashes, Cyrillic look-alikes, O/I/L', () => {
    const code = withCheck('K7QM3XW9');
    const printed = formatCode(code);
    expect(normalizeCode(printed.toLowerCase())).toBe(code);
    expect(normalizeCode(printed.replaceAll('-', ' '))).toBe(code);
    // Cyrillic К and М typed on a Belarusian keyboard
    expect(normalizeCode(printed.replace('K', 'К').replace('M', 'м'))).toBe(code);
    expect(normalizeCode('OIL')).toBe('011');
    expect(normalizeCode('ВЕНРСТХА')).toBe('BEHPCTXA');
    expect(normalizeCode('Dzień')).toBeUndefined();
    expect(normalizeCode('U1')).toBeUndefined();
  });
});

describe('finding codes in a chat message', () => {
  const a = withCheck('K7QM3XW9');
  const b = withCheck('22HT5ZQ1');
  it('finds one code however it is written', () => {
    expect(extractCodes(formatCode(a))).toEqual([a]);
    expect(extractCodes(formatCode(a).toLowerCase().replaceAll('-', ' '))).toEqual([a]);
    expect(extractCodes(`  ${a}  `)).toEqual([a]);
  });
  it('finds several codes on lines, after commas or spaces, once each', () => {
    expect(extractCodes(`${formatCode(a)}\n${formatCode(b)}`)).toEqual([a, b]);
    expect(extractCodes(`${formatCode(a)} ${formatCode(b)}, ${a}`)).toEqual([a, b]);
  });
  it('keeps a mistyped code as a code so it can be answered "check the code"', () => {
    const typo = a.slice(0, 3) + (a[3] === 'Z' ? 'Y' : 'Z') + a.slice(4);
    expect(extractCodes(typo)).toEqual([typo]);
  });
  it('leaves ordinary messages alone', () => {
    for (const text of ['Dzień dobry', 'Olá, tudo bem?', 'Прывітанне', 'menu', 'help me', 'ok', '123', 'sold 3 boilers today']) {
      expect(extractCodes(text), text).toBeUndefined();
    }
  });
});

/**
 * Redeemable codes: Crockford base32 symbols (no I, L, O, U, so a printed code has no look-alikes)
 * followed by one check symbol from the same alphabet.
 *
 * The check symbol is a linear check over GF(32) (polynomial x⁵ + x² + 1): position i carries the
 * weight αⁱ (the check itself sits at weight α⁰ = 1) and the weighted sum of a valid code is 0.
 * Because every weight is non-zero, any single-symbol substitution changes the sum; because
 * αⁱ ≠ αʲ for i ≠ j < 31, swapping any two different symbols (adjacent or not) changes it too.
 * Crockford's own mod-37 symbol catches the same errors but needs five extra symbols (* ~ $ = U)
 * that are awkward to type on a phone; this check stays inside the 32 printed symbols.
 */

export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const VALUE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** Longest code body (prefix + random part) the check protects: weights must stay distinct. */
export const MAX_BODY_LENGTH = 30;

// GF(32) arithmetic with x⁵ + x² + 1 (0b100101); α = x = 2 is primitive.
const EXP: number[] = [];
const LOG: number[] = new Array(32).fill(0);
{
  let v = 1;
  for (let i = 0; i < 31; i++) {
    EXP[i] = v;
    LOG[v] = i;
    v <<= 1;
    if (v & 32) v ^= 0b100101;
  }
}
const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : EXP[(LOG[a]! + LOG[b]!) % 31]!);

/** The check symbol for a body of canonical symbols. */
export function checkSymbol(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const v = VALUE.get(body[i]!);
    if (v === undefined) throw new RangeError(`not a code symbol: ${body[i]}`);
    sum ^= mul(v, EXP[(i + 1) % 31]!);
  }
  return ALPHABET[sum]!;
}

export const isValidCanonical = (code: string): boolean =>
  code.length >= 2 && [...code].every((c) => VALUE.has(c)) && checkSymbol(code.slice(0, -1)) === code.at(-1);

/** `K7QM3XW9T` → `K7QM-3XW9-T`: groups of four, the check symbol on its own at the end. */
export function formatCode(canonical: string): string {
  const body = canonical.slice(0, -1);
  const groups = body.match(/.{1,4}/g) ?? [];
  return [...groups, canonical.slice(-1)].join('-');
}

// Cyrillic capitals and small letters that look like Latin ones; В reads as B, Н as H, Р as P,
// С as C, Х as X. О becomes 0 like the Latin O.
const LOOK_ALIKES: Record<string, string> = {
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: '0', Р: 'P', С: 'C', Т: 'T', Х: 'X',
  а: 'A', в: 'B', е: 'E', к: 'K', м: 'M', н: 'H', о: '0', р: 'P', с: 'C', т: 'T', х: 'X',
  O: '0', I: '1', L: '1',
};

/**
 * One typed token → canonical symbols, or undefined when it holds something no code can contain.
 * Case, spaces and dashes are ignored; Cyrillic look-alikes, O, I and L are mapped.
 */
export function normalizeCode(input: string): string | undefined {
  let out = '';
  for (const raw of input.normalize('NFKC')) {
    if (raw === ' ' || raw === '-' || raw === '‐' || raw === '–' || raw === '—' || raw === '\u00a0') continue;
    const mapped = LOOK_ALIKES[raw] ?? LOOK_ALIKES[raw.toUpperCase()] ?? raw.toUpperCase();
    if (!VALUE.has(mapped)) return undefined;
    out += mapped;
  }
  return out.length ? out : undefined;
}

export type CodeCheck = { status: 'ok'; canonical: string } | { status: 'mistyped'; canonical: string };

export function checkCode(canonical: string): CodeCheck {
  return isValidCanonical(canonical) ? { status: 'ok', canonical } : { status: 'mistyped', canonical };
}

/** Shortest and longest canonical code (body + check) we recognise in a chat message. */
export const MIN_CODE_LENGTH = 7;
export const MAX_CODE_LENGTH = MAX_BODY_LENGTH + 1;

const inRange = (c: string | undefined): c is string =>
  c !== undefined && c.length >= MIN_CODE_LENGTH && c.length <= MAX_CODE_LENGTH;

/** A piece reads as a code when its check symbol is right, or when it has the shape of one and a digit. */
const looksLikeCode = (raw: string, c: string | undefined): c is string =>
  inRange(c) && (isValidCanonical(c) || (/[0-9]/.test(raw) && /[^\d\s-]/.test(raw)));

/** "K7QM 3XW9 T", "ABC-123-XY": equal groups of 3+ symbols and a shorter last one, as codes are printed. */
const printedGroups = (words: string[]): boolean => {
  const size = words[0]!.length;
  return words.length === 1 || (size >= 3 && words.slice(0, -1).every((w) => w.length === size) && words.at(-1)!.length <= size);
};

/**
 * The codes a chat message seems to carry, in order, deduplicated; undefined when the message is
 * not (only) codes, so "Dzień dobry" or "sold 3 boilers" is never counted as a guess. Pieces are
 * split on commas, semicolons and new lines; a piece is one code ("K7QM 3XW9 T", "k7qm3xw9t") or,
 * failing that, several codes separated by spaces.
 */
export function extractCodes(text: string): string[] | undefined {
  const pieces = text
    .split(/[,;\n\r\t]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (pieces.length === 0 || pieces.length > 20) return undefined;
  const codes: string[] = [];
  for (const piece of pieces) {
    const whole = normalizeCode(piece);
    if (whole && inRange(whole) && isValidCanonical(whole)) {
      codes.push(whole);
      continue;
    }
    const words = piece.split(/\s+/);
    if (words.length > 1) {
      const each = words.map(normalizeCode);
      if (each.every((c, i) => looksLikeCode(words[i]!, c))) {
        codes.push(...(each as string[]));
        continue;
      }
    }
    if (!looksLikeCode(piece, whole) || !printedGroups(piece.split(/[\s-]+/))) return undefined;
    codes.push(whole);
  }
  return codes.length > 20 ? undefined : [...new Set(codes)];
}

/** Random code bodies from cryptographically random bytes: each byte's low 5 bits pick a symbol (no bias). */
export function bodiesFromBytes(bytes: Uint8Array, count: number, length: number, prefix = ''): string[] {
  const out: string[] = new Array(count);
  let k = 0;
  for (let i = 0; i < count; i++) {
    let s = prefix;
    for (let j = 0; j < length; j++) s += ALPHABET[bytes[k++]! & 31];
    out[i] = s + checkSymbol(s);
  }
  return out;
}

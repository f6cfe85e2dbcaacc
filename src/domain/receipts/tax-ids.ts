/**
 * Tax identifiers and fiscal-key check digits of the four markets (see notes/receipts.md for the
 * algorithms and test vectors). Pure functions: a checksum failure is `false`, never an exception,
 * because a misread or forged id is an expected outcome that becomes a review flag.
 */

const digitsOnly = (s: string): boolean => /^\d+$/.test(s);

/** What people put between the parts of a tax id: spaces (also no-break), dots, slashes, dashes of any kind. */
const SEPARATORS = /[\s\u00a0\u202f.\/\-\u2010-\u2015\u2212]+/g;

/** A tax id as people write it (`PT-505 856 468`, `PT 500135.495`): upper case, no separators, no country prefix. */
export function bareTaxId(value: string, prefix?: RegExp): string {
  const bare = value.toUpperCase().replace(SEPARATORS, '');
  return prefix ? bare.replace(prefix, '') : bare;
}

/** Portugal NIF: 9 digits, weights 9..2, mod 11 (remainder < 2 → 0). */
export function isValidPtNif(value: string): boolean {
  const nif = bareTaxId(value, /^PT/);
  if (nif.length !== 9 || !digitsOnly(nif)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(nif[i]) * (9 - i);
  const r = sum % 11;
  return (r < 2 ? 0 : 11 - r) === Number(nif[8]);
}

/** Poland NIP: strips `PL`, dashes and spaces; `null` when it cannot be a NIP at all. */
export function normalizePlNip(value: string): string | null {
  const nip = bareTaxId(value, /^PL/);
  return nip.length === 10 && digitsOnly(nip) ? nip : null;
}

const NIP_WEIGHTS = [6, 5, 7, 2, 3, 4, 5, 6, 7];

export function isValidPlNip(value: string): boolean {
  const nip = normalizePlNip(value);
  if (!nip) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nip[i]) * NIP_WEIGHTS[i]!;
  const c = sum % 11;
  return c !== 10 && c === Number(nip[9]);
}

/** Cyrillic letters that look like the Latin ones a UNP may contain (receipts are mostly Russian). */
const CYRILLIC_TO_LATIN: Record<string, string> = {
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T',
};

export function normalizeByUnp(value: string): string {
  return [...bareTaxId(value, /^(УНП|UNP|BY)/)]
    .map((ch) => CYRILLIC_TO_LATIN[ch] ?? ch)
    .join('');
}

const UNP_WEIGHTS = [29, 23, 19, 17, 13, 7, 5, 3];
const UNP_SECOND = 'ABCEHKMOPT';
const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Belarus UNP (python-stdnum by/unp): legal entities all digits, individuals two letters first. */
export function isValidByUnp(value: string): boolean {
  const unp = normalizeByUnp(value);
  if (unp.length !== 9 || !digitsOnly(unp.slice(2))) return false;
  let normalized: string;
  if (digitsOnly(unp.slice(0, 2))) {
    if (!'1234567'.includes(unp[0]!)) return false;
    normalized = unp;
  } else {
    if (!'ABCEHKM'.includes(unp[0]!) || !UNP_SECOND.includes(unp[1]!)) return false;
    normalized = unp[0]! + String(UNP_SECOND.indexOf(unp[1]!)) + unp.slice(2);
  }
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += ALNUM.indexOf(normalized[i]!) * UNP_WEIGHTS[i]!;
  const c = sum % 11;
  return c !== 10 && c === Number(unp[8]);
}

/** Value of a character in the alphanumeric CNPJ / access-key schemes: ASCII − 48 (A = 17). */
const alnumValue = (ch: string): number => ch.charCodeAt(0) - 48;

function mod11Dv(chars: string, weights: number[]): number {
  let sum = 0;
  for (let i = 0; i < chars.length; i++) sum += alnumValue(chars[i]!) * weights[i]!;
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

const CNPJ_W1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_W2 = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];

export function normalizeBrCnpj(value: string): string {
  return bareTaxId(value, /^BR/);
}

/** Brazil CNPJ, numeric or alphanumeric (from July 2026: positions 1–12 may be A–Z). */
export function isValidBrCnpj(value: string): boolean {
  const cnpj = normalizeBrCnpj(value);
  if (!/^[A-Z0-9]{12}\d{2}$/.test(cnpj) || /^(.)\1{13}$/.test(cnpj)) return false;
  const dv1 = mod11Dv(cnpj.slice(0, 12), CNPJ_W1);
  const dv2 = mod11Dv(cnpj.slice(0, 12) + String(dv1), CNPJ_W2);
  return cnpj.endsWith(`${dv1}${dv2}`);
}

/** Check digit of a 44-character NF-e/NFC-e access key: weights 2..9 repeating from the right. */
export function brAccessKeyDv(first43: string): number {
  let sum = 0;
  for (let i = 0; i < first43.length; i++) {
    const weight = 2 + ((first43.length - 1 - i) % 8);
    sum += alnumValue(first43[i]!) * weight;
  }
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

/**
 * The access key's layout: cUF(2) AAMM(4) CNPJ(14, alphanumeric since 2026) mod(2) série(3)
 * nNF(9) tpEmis(1) cNF(8) cDV(1). Never parsed as `\d{44}`.
 */
export const BR_ACCESS_KEY = /^(\d{2})(\d{2})(\d{2})([A-Z0-9]{12}\d{2})(\d{2})(\d{3})(\d{9})(\d)(\d{8})(\d)$/;

export function isValidBrAccessKey(value: string): boolean {
  const key = value.toUpperCase();
  return BR_ACCESS_KEY.test(key) && brAccessKeyDv(key.slice(0, 43)) === Number(key[43]);
}

/** CRC-8 (poly 0x07, init 0x00) used by the KSeF number's last two characters. */
export function crc8(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** KSeF number `NIP-YYYYMMDD-XXXXXXXXXXXX-CC`: CC is the CRC-8 of the first 32 characters. */
export function isValidKsefNumber(value: string): boolean {
  const n = value.trim().toUpperCase();
  if (!/^\d{10}-\d{8}-[0-9A-F]{12}-[0-9A-F]{2}$/.test(n)) return false;
  if (!isValidPlNip(n.slice(0, 10))) return false;
  return crc8(n.slice(0, 32)).toString(16).toUpperCase().padStart(2, '0') === n.slice(33);
}

export type TaxIdCountry = 'PT' | 'PL' | 'BY' | 'BR';

/** Normalizes a seller id as a moderator or manager would type it, so lists compare equal. */
export function normalizeTaxId(country: TaxIdCountry, value: string): string {
  switch (country) {
    case 'PT':
      return bareTaxId(value, /^PT/);
    case 'PL':
      return normalizePlNip(value) ?? bareTaxId(value);
    case 'BY':
      return normalizeByUnp(value);
    case 'BR':
      return normalizeBrCnpj(value);
  }
}

export function isValidTaxId(country: TaxIdCountry, value: string): boolean {
  switch (country) {
    case 'PT':
      return isValidPtNif(value);
    case 'PL':
      return isValidPlNip(value);
    case 'BY':
      return isValidByUnp(value);
    case 'BR':
      return isValidBrCnpj(value);
  }
}

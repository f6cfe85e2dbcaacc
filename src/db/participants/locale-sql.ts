/**
 * The locale rule (domain/participants/locale.ts) as an SQL expression, rendered from the rule's
 * own tables, so a broadcast's recipients get the language their replies are in.
 */
import { PHONE_LOCALES, TAG_LOCALES } from '../../domain/participants/locale.js';
import { LOCALES } from '../../shared/locale.js';

const literal = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** The SQL expressions of the rule's inputs; each may be null. */
export interface LocaleColumns {
  chosen: string;
  hint: string;
  phone: string;
  fallback: string;
}

export function localeSql(c: LocaleColumns): string {
  const known = `array[${LOCALES.map(literal).join(', ')}]::text[]`;
  const tags = TAG_LOCALES.map(([base, l]) => `when ${literal(base)} then ${literal(l)}`).join(' ');
  const digits = `regexp_replace(${c.phone}, '\\D', '', 'g')`;
  const phones = PHONE_LOCALES.map(([prefix, l]) => `when ${digits} like ${literal(`${prefix}%`)} then ${literal(l)}`).join(' ');
  return `coalesce(
    case when ${c.chosen} = any(${known}) then ${c.chosen} end,
    case lower(split_part(replace(${c.hint}, '_', '-'), '-', 1)) ${tags} end,
    case ${phones} end,
    ${c.fallback})`;
}

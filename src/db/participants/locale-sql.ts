/**
 * The locale rule (domain/participants/locale.ts) as an SQL expression, rendered from the rule's
 * own tables, so a broadcast's recipients get the language their replies are in.
 */
import { PHONE_LOCALES, PORTUGUESE_REGIONS, TAG_LOCALES } from '../../domain/participants/locale.js';

const literal = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** The SQL expressions of the rule's inputs; each may be null. */
export interface LocaleColumns {
  chosen: string;
  hint: string;
  phone: string;
  /** The program's market (PL|PT|BR|BY): the Portuguese variant of a bare "pt". */
  market?: string;
  fallback: string;
}

export function localeSql(c: LocaleColumns): string {
  const digits = `regexp_replace(${c.phone}, '\\D', '', 'g')`;
  const phones = PHONE_LOCALES.map(([prefix, l]) => `when ${digits} like ${literal(`${prefix}%`)} then ${literal(l)}`).join(' ');
  const byPhone = `case ${phones} end`;
  const portuguese = `coalesce(case ${byPhone} when 'pt-PT' then 'pt-PT' when 'pt-BR' then 'pt-BR' end,
      case ${c.market ?? 'null'} when 'BR' then 'pt-BR' when 'PT' then 'pt-PT' when 'PL' then 'pt-PT' when 'BY' then 'pt-PT' end,
      case when ${c.fallback} = 'pt-BR' then 'pt-BR' else 'pt-PT' end)`;
  const regions = PORTUGUESE_REGIONS.map(([r, l]) => `when ${literal(r)} then ${literal(l)}`).join(' ');
  const tag = (e: string) => {
    const parts = `string_to_array(lower(replace(${e}, '_', '-')), '-')`;
    const bases = TAG_LOCALES.map(([base, l]) =>
      `when ${literal(base)} then ${l === 'pt' ? `coalesce(case (${parts})[2] ${regions} end, ${portuguese})` : literal(l)}`,
    ).join(' ');
    return `case (${parts})[1] ${bases} end`;
  };
  return `coalesce(${tag(c.chosen)}, ${tag(c.hint)}, ${byPhone}, ${c.fallback})`;
}

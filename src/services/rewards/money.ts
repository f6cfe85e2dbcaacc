import type { Locale } from '../../i18n/index.js';
import { formatNumber } from '../../i18n/index.js';

/** 50 zł, 50 €, R$ 50, 50 Br: money as the reader writes it. */
export function money(locale: Locale, amount: number, currency: string | null): string {
  if (!currency) return formatNumber(locale, amount);
  const tag = { pl: 'pl-PL', pt: currency === 'BRL' ? 'pt-BR' : 'pt-PT', be: 'be-BY' }[locale];
  try {
    return new Intl.NumberFormat(tag, { style: 'currency', currency, maximumFractionDigits: 0 }).format(amount);
  } catch {
    return `${formatNumber(locale, amount)} ${currency}`;
  }
}

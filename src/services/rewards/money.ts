import type { Locale } from '../../i18n/index.js';
import { formatMoney } from '../../i18n/index.js';

/** 50 zł, 50 €, R$ 50, 50 Br: money as the reader writes it (one rule for the product: i18n formatMoney). */
export function money(locale: Locale, amount: number, currency: string | null): string {
  return formatMoney(locale, amount, currency);
}

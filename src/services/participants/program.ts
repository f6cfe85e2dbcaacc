import { isLocale, type Locale } from '../../i18n/index.js';
import { isMarket } from '../../shared/locale.js';
import type { ProfileQuestion, ProgramInfo } from '../../domain/participants/index.js';
import type { ProgramRow } from '../../db/participants/participants-repo.js';

/**
 * `fallback` is DEFAULT_LOCALE: it is the language of the deployment's 'default' program (its row is
 * created by a migration, before any configuration is known); other programs keep their own.
 */
export function toProgramInfo(row: ProgramRow, fallback: Locale): ProgramInfo {
  const settings = row.settings ?? {};
  const questions = Array.isArray(settings.profileQuestions) ? (settings.profileQuestions as ProfileQuestion[]) : [];
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    defaultLocale: row.slug !== 'default' && isLocale(row.defaultLocale) ? row.defaultLocale : fallback,
    timeZone: row.timeZone,
    ...(isMarket(row.market) ? { market: row.market } : {}),
    ...(row.currency ? { currency: row.currency } : {}),
    termsVersion: row.termsVersion,
    termsUrl: typeof settings.termsUrl === 'string' ? settings.termsUrl : undefined,
    profileQuestions: questions.filter((q) => q && typeof q.id === 'string' && q.text),
  };
}

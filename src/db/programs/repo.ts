/** Program rows: the default program, each program's time zone and default language. */
import type { Db } from '../sql.js';
import type { Locale } from '../../shared/locale.js';

export async function defaultProgramId(db: Db): Promise<string> {
  const [row] = await db<{ id: string }[]>`select id from programs order by created_at, slug = 'default' desc limit 1`;
  if (!row) throw new Error('No program exists: migrations did not run');
  return row.id;
}

export async function programTimeZone(db: Db, programId: string): Promise<string> {
  const [row] = await db<{ timeZone: string }[]>`select time_zone from programs where id = ${programId}`;
  return row?.timeZone ?? 'Europe/Warsaw';
}

export async function listPrograms(db: Db): Promise<Array<{ id: string; timeZone: string; defaultLocale: Locale }>> {
  return db<Array<{ id: string; timeZone: string; defaultLocale: Locale }>>`select id, time_zone, default_locale from programs`;
}

export async function programDefaultLocale(db: Db, programId: string): Promise<Locale> {
  const [r] = await db<{ defaultLocale: Locale }[]>`select default_locale from programs where id = ${programId}`;
  return r?.defaultLocale ?? 'pl';
}

/** The local day (YYYY-MM-DD) `days` from now in a time zone, by the database's clock. */
export async function localDayPlus(db: Db, timeZone: string, days: number): Promise<string> {
  const [r] = await db<{ day: string }[]>`select to_char((now() at time zone ${timeZone})::date + ${days}::int, 'YYYY-MM-DD') as day`;
  return r!.day;
}

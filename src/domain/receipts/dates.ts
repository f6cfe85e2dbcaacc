/**
 * A purchase day read from a code or from printed text. Years outside 2000–2099 are misreads (and
 * Postgres has no year 0, so storing one would fail the whole receipt); 2026-02-31 is not a day.
 */
export function calendarDay(year: number | string, month: number | string, day: number | string): string | null {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d)) return null;
  if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1) return null;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

/** Sales logging rules: points for a sale, target progress, invoice numbers. No I/O. */

export type SaleStatus = 'pending' | 'confirmed' | 'rejected';
export type TargetMetric = 'units' | 'points';

export interface TargetProgress {
  targetId: string;
  campaignId: string;
  metric: TargetMetric;
  goal: number;
  done: number;
  /** What is still missing; 0 once reached. */
  remaining: number;
  reached: boolean;
  bonusPoints: number;
}

export function targetProgress(t: {
  id: string;
  campaignId: string;
  metric: TargetMetric;
  goal: number;
  bonusPoints: number;
  done: number;
}): TargetProgress {
  const remaining = Math.max(0, t.goal - t.done);
  return {
    targetId: t.id,
    campaignId: t.campaignId,
    metric: t.metric,
    goal: t.goal,
    done: t.done,
    remaining,
    reached: remaining === 0,
    bonusPoints: t.bonusPoints,
  };
}

/** Invoice numbers compared without case, spaces and separators: "FV 12/2026" = "fv12-2026". */
export const normalizeInvoice = (raw: string): string => raw.normalize('NFKC').toUpperCase().replace(/[\s\-_/.\\]+/g, '');

export const MAX_QUANTITY = 10_000;

/** A typed quantity: whole units 1..10 000 ("3", " 3 ", "3 szt." are fine). */
export function parseQuantity(text: string): number | undefined {
  const m = /^\s*(\d{1,5})\b/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= MAX_QUANTITY ? n : undefined;
}

/** EAN-8/UPC-A/EAN-13/GTIN-14 check digit (mod 10, weights 3 and 1 from the right). */
export function isValidGtin(digits: string): boolean {
  if (!/^\d{8}$|^\d{12,14}$/.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 2, w = 3; i >= 0; i--, w = w === 3 ? 1 : 3) sum += Number(digits[i]) * w;
  return (10 - (sum % 10)) % 10 === Number(digits.at(-1));
}

export interface SellOutRow {
  invoice: string;
  sku?: string;
  quantity?: number;
  /** confirmed: the distributor saw this sale; rejected: it did not happen as logged. */
  verdict: 'confirm' | 'reject';
}

/**
 * Distributor sell-out CSV: a header row with `invoice` and `status` (confirm|confirmed|ok|valid →
 * confirm; reject|rejected|invalid → reject), optional `sku` and `quantity`. Separator `,` or `;`.
 * Returns rows and the line numbers it could not read, so one bad line never hides the others.
 */
export function parseSellOutCsv(text: string): { rows: SellOutRow[]; bad: Array<{ line: number; reason: string }> } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = lines[0] ?? '';
  const sep = header.includes(';') && !header.includes(',') ? ';' : ',';
  const cols = splitCsvLine(header, sep).map((c) => c.trim().toLowerCase());
  const at = (name: string) => cols.indexOf(name);
  const iInvoice = at('invoice');
  const iStatus = at('status');
  const rows: SellOutRow[] = [];
  const bad: Array<{ line: number; reason: string }> = [];
  if (iInvoice < 0 || iStatus < 0) return { rows, bad: [{ line: 1, reason: 'header needs invoice and status columns' }] };
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (!line.trim()) continue;
    const f = splitCsvLine(line, sep).map((c) => c.trim());
    const status = (f[iStatus] ?? '').toLowerCase();
    const verdict = ['confirm', 'confirmed', 'ok', 'valid'].includes(status)
      ? 'confirm'
      : ['reject', 'rejected', 'invalid'].includes(status)
        ? 'reject'
        : undefined;
    const invoice = f[iInvoice] ?? '';
    if (!invoice || !verdict) {
      bad.push({ line: n + 1, reason: !invoice ? 'missing invoice' : `unknown status "${status}"` });
      continue;
    }
    const q = at('quantity') >= 0 ? Number(f[at('quantity')]) : undefined;
    rows.push({
      invoice,
      verdict,
      sku: at('sku') >= 0 ? f[at('sku')] || undefined : undefined,
      quantity: q !== undefined && Number.isInteger(q) ? q : undefined,
    });
  }
  return { rows, bad };
}

/** RFC 4180-ish: quoted fields with doubled quotes. */
export function splitCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) out.push(cur), (cur = '');
    else cur += ch;
  }
  out.push(cur);
  return out;
}

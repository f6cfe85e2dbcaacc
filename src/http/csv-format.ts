/**
 * Which CSV form a request asks for. Default: the standard form (commas, no BOM) existing API
 * clients read. `?format=excel` (or `Accept: application/vnd.ms-excel`) gives the form Excel opens
 * as it is: a UTF-8 BOM, and semicolons for readers whose locale writes decimals with a comma.
 * The locale is `?locale=` or else the first language of Accept-Language.
 */
import { z } from 'zod';
import { excelCsv, STANDARD_CSV, type CsvFormat } from '../shared/csv.js';

export const csvFormatQuery = z.object({
  format: z.enum(['csv', 'excel']).optional(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'a language tag such as pl, pt-PT or pt-BR')
    .optional(),
});

type CsvRequest = { query: unknown; headers: { accept?: string | undefined; 'accept-language'?: string | undefined } };

/** The form asked for; `standard` is what this route has always sent when nothing is asked. */
export function csvFormatOf(request: CsvRequest, standard: CsvFormat = STANDARD_CSV): CsvFormat {
  const q = (request.query ?? {}) as { format?: string; locale?: string };
  const excel = q.format === 'excel' || (q.format === undefined && /application\/vnd\.ms-excel/i.test(request.headers.accept ?? ''));
  if (!excel) return standard;
  const language = q.locale ?? request.headers['accept-language']?.split(',')[0]?.split(';')[0]?.trim();
  return excelCsv(language && language !== '*' ? language : undefined);
}

/** Whether the client asked for CSV at all (Accept: text/csv or the Excel type, or `?format=`). */
export function wantsCsv(request: CsvRequest): boolean {
  const q = (request.query ?? {}) as { format?: string };
  return q.format !== undefined || /\btext\/csv\b|application\/vnd\.ms-excel/i.test(request.headers.accept ?? '');
}

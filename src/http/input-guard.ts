/**
 * One check of every request's decoded input (body, query, params) before the route's own schema:
 * values Postgres cannot store — NUL characters, lone UTF-16 surrogates, integers beyond int4,
 * dates outside years 1–9999 — answer 400 naming the field, instead of a 500 from the database
 * after validation passed. JSON numbers are checked; query strings carry numbers as text (phone
 * digits in a search), so their integer bounds stay with the route's schema. Routes whose numbers
 * are wider (bigint ids) list them in `wideIntegers`.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import { LONE_SURROGATE } from '../shared/unicode.js';

export const INT4_MAX = 2_147_483_647;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Field names (last path segment) whose integers may exceed int4, e.g. bigint message ids. */
    wideIntegers?: string[];
  }
}

// An ISO-8601 date at the start of a string: a signed/extended year or year 0000 cannot be stored.
const ISO_DATE = /^([+-]\d{6}|\d{4,})-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Why a text cannot be stored, or undefined when it can. */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(value)) return 'must not contain lone UTF-16 surrogates (broken characters)';
  return undefined;
}

function dateProblem(value: string): string | undefined {
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const year = Number(match[1]);
  return year >= 1 && year <= 9999 && !/^[+-]/.test(match[1]!) ? undefined : 'must be a date between the years 1 and 9999';
}

const numberProblem = (value: number): string | undefined =>
  Number.isFinite(value) && Math.abs(value) > INT4_MAX ? `must be between -${INT4_MAX} and ${INT4_MAX}` : undefined;

export interface InputProblem {
  path: string;
  message: string;
}

/** The first value under `root` that cannot be stored, with its path (`body.caps.perParticipantPerDay`). */
export function findUnstorable(root: unknown, base: string, wide: ReadonlySet<string> = new Set()): InputProblem | undefined {
  const stack: Array<{ value: unknown; path: string; key: string }> = [{ value: root, path: base, key: '' }];
  let visited = 0;
  while (stack.length) {
    const { value, path, key } = stack.pop()!;
    if (++visited > 200_000) return undefined; // huge bodies (imports) are checked by their own parsers
    if (typeof value === 'string') {
      const problem =
        unstorableText(value) ??
        dateProblem(value);
      if (problem) return { path, message: problem };
    } else if (typeof value === 'number') {
      const problem = wide.has(key) ? undefined : numberProblem(value);
      if (problem) return { path, message: problem };
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: `${path}.${i}`, key }));
    } else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
      for (const [k, v] of Object.entries(value)) {
        const keyProblem = unstorableText(k);
        if (keyProblem) return { path: `${path}.${k}`, message: `field name ${keyProblem}` };
        stack.push({ value: v, path: `${path}.${k}`, key: k });
      }
    }
  }
  return undefined;
}

/** preValidation hook: 400 `invalid_input` with `issues: [{path, message}]` for the first unstorable value. */
export async function inputGuard(request: FastifyRequest): Promise<void> {
  const wide = new Set(request.routeOptions.config?.wideIntegers ?? []);
  const problem =
    findUnstorable(request.params, 'params', wide) ??
    findUnstorable(request.query, 'query', wide) ??
    // Text bodies (CSV imports) are read by their own parsers, row by row.
    (typeof request.body === 'string' ? undefined : findUnstorable(request.body, 'body', wide));
  if (problem) throw new AppError('invalid_input', `${problem.path} ${problem.message}`, { details: { issues: [problem] } });
}

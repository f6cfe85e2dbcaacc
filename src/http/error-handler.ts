import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode } from '../shared/errors.js';
import { isUnavailable } from '../db/availability.js';
import { incident } from '../shared/incidents.js';
import type { Logger } from '../shared/logger.js';

/** Seconds a client is told to wait before retrying while the database is away. */
export const UNAVAILABLE_RETRY_AFTER_S = 2;

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_mismatch: 409,
  insufficient_points: 422,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export const statusOf = (code: ErrorCode): number => STATUS[code];

/** One mapping from errors to JSON answers; internals never leave the process on a 5xx. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      return reply.code(400).send({
        code: 'invalid_input',
        message: 'The request is not valid',
        issues: error.validation.map((v) => ({
          path: `${error.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
          message: v.message,
        })),
      });
    }
    // The database away or too slow to answer in time: nothing is wrong with the request, and
    // nothing was half-done (a message's transaction commits all or nothing). 503 with a retry
    // hint, and one incident line for the whole outage instead of a stack trace per request.
    if (!(error instanceof AppError) && isUnavailable(error)) {
      incident(app.log as unknown as Logger, 'database').fail(error, { via: 'http' });
      return reply
        .code(503)
        .header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S))
        .send({ code: 'unavailable', message: 'The service is briefly unavailable; retry shortly', retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_S });
    }
    if (error instanceof AppError) {
      const status = STATUS[error.code];
      request.log[status >= 500 ? 'error' : 'info']({ err: error }, 'request failed');
      return reply.code(status).send({
        code: error.code,
        message: status >= 500 ? 'Internal Server Error' : error.message,
        ...(status < 500 && error.details ? { details: error.details } : {}),
      });
    }
    // Postgres class 22 (data exception: out of range, bad encoding, bad JSON text): the input was
    // wrong, not the service. The input guard names the field for the known causes; this is the net.
    const sqlState = (error as { code?: unknown; severity?: unknown }).severity ? String((error as { code?: unknown }).code ?? '') : '';
    if (/^22/.test(sqlState)) {
      request.log.info({ err: error }, 'request refused by the database as bad input');
      return reply.code(400).send({ code: 'invalid_input', message: 'A value in the request cannot be stored (out of range or not valid text)' });
    }
    const status = (error as FastifyError).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ code: 'internal', message: 'Internal Server Error' });
    }
    return reply.code(status).send({
      code: status === 429 ? 'rate_limited' : status === 404 ? 'not_found' : 'invalid_input',
      message: error.message,
    });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'not_found', message: `Route ${request.method} ${request.url.split('?')[0]} not found` }),
  );
}

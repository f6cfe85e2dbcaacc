import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { LOG_SERIALIZERS, type Logger } from '../shared/logger.js';
import type { Sql } from '../db/sql.js';
import type { AdminTokens } from '../services/admin-tokens.js';
import { installErrorHandler } from './error-handler.js';
import { bearerAuth } from './plugins/admin-auth.js';
import { inputGuard } from './input-guard.js';
import { docsGuard, HELMET_OPTIONS, rateLimitKey } from './plugins/security.js';
import { healthRoutes, type ReadinessDetail } from './routes/health.js';
import { adminTokenRoutes } from './routes/admin-tokens.js';

export type App = FastifyInstance;

/** A route module: registers its routes on the app it is given (public or under /api/v1). */
export type RouteModule = (app: FastifyInstance) => Promise<void> | void;

export interface ServerDeps {
  logger: Logger;
  sql: Sql;
  redis: Redis;
  adminTokens: AdminTokens;
  /** Routes under /api/v1, behind bearer auth. */
  apiRoutes?: RouteModule[];
  /** Public routes: web chat, webhooks. They set their own rate limits or opt out. */
  publicRoutes?: RouteModule[];
  /** Extra readiness details (e.g. WhatsApp) that are reported but never make the service unready. */
  readinessDetails?: () => Promise<Record<string, ReadinessDetail>>;
  /** Age of the oldest inbound message not yet committed: readiness fails when messages stall. */
  backlogMs?: () => number;
  /** Requests per minute per client on rate-limited routes. */
  rateLimitPerMinute?: number;
  /** Fastify `trustProxy`: hops or proxy addresses whose X-Forwarded-For gives the client address (TRUST_PROXY). */
  trustProxy?: number | string[] | false;
  /** /docs: open, behind an admin token, or not served (DOCS). */
  docs?: 'public' | 'token' | 'off';
}

const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/** Builds the HTTP app from explicit dependencies without listening; tests use `app.inject`. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Own serializers even for a logger built elsewhere: request lines without query strings, errors without payloads.
    loggerInstance: deps.logger.child({}, { serializers: LOG_SERIALIZERS }) as FastifyBaseLogger,
    requestTimeout: 30_000,
    // JSON routes take small bodies; the few that take files (imports, photos) set their own limit.
    bodyLimit: 1024 * 1024,
    // A hop count as proxy-addr's function form (Fastify's types list only addresses and booleans).
    trustProxy: typeof deps.trustProxy === 'number' ? trustHops(deps.trustProxy) : (deps.trustProxy ?? false),
    ajv: { customOptions: { removeAdditional: 'all' } },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  // Security headers on every answer; the web chat sets its own, stricter-scoped CSP.
  await app.register(helmet, HELMET_OPTIONS);

  // Local counters: limits protect this process; Redis stays off the request path for them.
  // Registered before the docs so /docs is limited too.
  await app.register(rateLimit, { global: true, max: deps.rateLimitPerMinute ?? 600, timeWindow: '1 minute', keyGenerator: rateLimitKey });

  const docs = deps.docs ?? 'public';
  if (docs !== 'off') {
    await app.register(swagger, {
    openapi: {
      info: { title: 'Punkto admin API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    });
    await app.register(async (scope) => {
      if (docs === 'token') scope.addHook('onRequest', docsGuard(deps.adminTokens));
      await scope.register(swaggerUi, { routePrefix: '/docs' });
    });
  }

  await app.register(healthRoutes, { sql: deps.sql, redis: deps.redis, details: deps.readinessDetails, backlogMs: deps.backlogMs });

  for (const routes of deps.publicRoutes ?? []) await app.register(async (scope) => routes(scope as unknown as FastifyInstance));

  await app.register(
    async (api) => {
      // onRequest: before the body is read, so an anonymous caller cannot make us receive 64 MB for a 401.
      // As a route hook after the rate limiter's (scope hooks would run before it): wrong tokens are counted too.
      const auth = bearerAuth(deps.adminTokens);
      api.addHook('onRoute', (route) => {
        route.onRequest = [...(route.onRequest ? [route.onRequest].flat() : []), auth];
      });
      // The API refuses what cannot be stored; chat and webhook routes clean participants' text in their adapters instead.
      api.addHook('preValidation', inputGuard);
      await adminTokenRoutes(api, deps.adminTokens);
      for (const routes of deps.apiRoutes ?? []) await routes(api);
    },
    { prefix: '/api/v1' },
  );
  return app as unknown as FastifyInstance;
}

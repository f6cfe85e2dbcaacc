import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
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
}

/** Builds the HTTP app from explicit dependencies without listening; tests use `app.inject`. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Own serializers even for a logger built elsewhere: request lines without query strings, errors without payloads.
    loggerInstance: deps.logger.child({}, { serializers: LOG_SERIALIZERS }) as FastifyBaseLogger,
    requestTimeout: 30_000,
    bodyLimit: 2 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: 'all' } },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Punkto admin API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Local counters: limits protect this process; Redis stays off the request path for them.
  await app.register(rateLimit, { global: true, max: deps.rateLimitPerMinute ?? 600, timeWindow: '1 minute' });

  await app.register(healthRoutes, { sql: deps.sql, redis: deps.redis, details: deps.readinessDetails, backlogMs: deps.backlogMs });

  for (const routes of deps.publicRoutes ?? []) await app.register(async (scope) => routes(scope as unknown as FastifyInstance));

  await app.register(
    async (api) => {
      api.addHook('preHandler', bearerAuth(deps.adminTokens));
      await adminTokenRoutes(api, deps.adminTokens);
      for (const routes of deps.apiRoutes ?? []) await routes(api);
    },
    { prefix: '/api/v1' },
  );
  return app as unknown as FastifyInstance;
}

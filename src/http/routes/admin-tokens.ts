import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ADMIN_ROLES, type AdminTokens } from '../../services/admin-tokens.js';
import { requireRole } from '../plugins/admin-auth.js';
import { AppError } from '../../shared/errors.js';

export async function adminTokenRoutes(app: FastifyInstance, tokens: AdminTokens): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/admin-tokens',
    {
      preHandler: requireRole('admin'),
      schema: {
        summary: 'Create a bearer token for a manager, moderator or viewer (shown once)',
        body: z.object({ name: z.string().min(1).max(100), role: z.enum(ADMIN_ROLES as [string, ...string[]]) }),
        response: { 201: z.object({ id: z.string(), token: z.string(), role: z.string() }) },
      },
    },
    async (request, reply) => {
      const created = await tokens.create({ name: request.body.name, role: request.body.role as never });
      return reply.code(201).send({ ...created, role: request.body.role });
    },
  );
  api.delete(
    '/admin-tokens/:id',
    { preHandler: requireRole('admin'), schema: { params: z.object({ id: z.uuid() }) } },
    async (request, reply) => {
      if (!(await tokens.revoke(request.params.id))) throw new AppError('not_found', 'No such active token');
      return reply.code(204).send();
    },
  );
  api.get('/whoami', { schema: { summary: 'The caller’s token name and role' } }, async (request) => ({
    name: request.admin!.name,
    role: request.admin!.role,
  }));
}

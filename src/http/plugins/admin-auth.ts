import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { AdminRole, AdminTokens, AdminPrincipal } from '../../services/admin-tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    admin?: AdminPrincipal;
  }
}

const RANK: Record<AdminRole, number> = { viewer: 0, moderator: 1, manager: 2, admin: 3 };

/** Authenticates `Authorization: Bearer <token>` on /api/v1; the token's role is checked per route. */
export function bearerAuth(tokens: AdminTokens): preHandlerHookHandler {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AppError('unauthorized', 'Missing bearer token');
    const principal = await tokens.authenticate(match[1]!);
    if (!principal) throw new AppError('unauthorized', 'Invalid or revoked token');
    request.admin = principal;
  };
}

/** preHandler: the caller's role must be at least `role` (viewer < moderator < manager < admin). */
export function requireRole(role: AdminRole) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const have = request.admin?.role;
    if (!have) throw new AppError('unauthorized', 'Missing bearer token');
    if (RANK[have] < RANK[role]) throw new AppError('forbidden', `This needs the ${role} role`);
  };
}

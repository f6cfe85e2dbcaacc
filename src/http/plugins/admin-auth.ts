import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { AdminRole, AdminTokens, AdminPrincipal } from '../../services/admin-tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    admin?: AdminPrincipal;
  }
}

const RANK: Record<AdminRole, number> = { viewer: 0, moderator: 1, manager: 2, admin: 3 };

/** Above this, a route takes files (imports of codes, vouchers, sell-out): only managers may send them. */
const LARGE_BODY = 1024 * 1024;

/** At least `role`? (viewer < moderator < manager < admin) */
export const hasRole = (principal: AdminPrincipal | undefined, role: AdminRole): boolean =>
  principal !== undefined && RANK[principal.role] >= RANK[role];

/**
 * Authenticates `Authorization: Bearer <token>` on /api/v1 as an onRequest hook, before the body is
 * read; the token's role is checked per route. A route taking large files refuses lower roles here
 * too, so a viewer's token cannot make us read 64 MB for a 403.
 */
export function bearerAuth(tokens: AdminTokens): onRequestHookHandler {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AppError('unauthorized', 'Missing bearer token');
    const principal = await tokens.authenticate(match[1]!);
    if (!principal) throw new AppError('unauthorized', 'Invalid or revoked token');
    request.admin = principal;
    if ((request.routeOptions.bodyLimit ?? 0) > LARGE_BODY && !hasRole(principal, 'manager')) {
      throw new AppError('forbidden', 'This needs the manager role');
    }
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

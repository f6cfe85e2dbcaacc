import { sha256Hex, randomToken } from '../shared/ids.js';
import type { Sql } from '../db/sql.js';
import * as repo from '../db/admin-tokens-repo.js';

export type AdminRole = 'admin' | 'manager' | 'moderator' | 'viewer';
export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'manager', 'moderator', 'viewer'];

export interface AdminPrincipal {
  tokenId: string;
  name: string;
  role: AdminRole;
}

export interface AdminTokens {
  authenticate(token: string): Promise<AdminPrincipal | undefined>;
  create(input: { name: string; role: AdminRole }): Promise<{ id: string; token: string }>;
  revoke(id: string): Promise<boolean>;
  /**
   * Start-up: with ADMIN_TOKEN set, makes sure it is a valid admin token and revokes any earlier
   * ADMIN_TOKEN (changing the value retires the old one); without it, generates one on
   * the very first start. Returns the generated token (to print once) or undefined.
   */
  bootstrap(configured: string | undefined): Promise<string | undefined>;
}

export function createAdminTokens({ sql }: { sql: Sql }): AdminTokens {
  return {
    async authenticate(token) {
      const row = await repo.findActiveByHash(sql, sha256Hex(token));
      if (!row) return undefined;
      void repo.touch(sql, row.id).catch(() => undefined);
      return { tokenId: row.id, name: row.name, role: row.role as AdminRole };
    },
    async create({ name, role }) {
      const token = `pk_${randomToken(24)}`;
      const id = await repo.insert(sql, { name, role, tokenHash: sha256Hex(token) });
      return { id, token };
    },
    revoke: (id) => repo.revoke(sql, id),
    async bootstrap(configured) {
      if (configured) {
        await repo.replaceNamed(sql, { name: 'ADMIN_TOKEN', role: 'admin', tokenHash: sha256Hex(configured) });
        return undefined;
      }
      const token = `pk_${randomToken(24)}`;
      const created = await repo.insertIfNoAdmin(sql, { name: 'bootstrap', role: 'admin', tokenHash: sha256Hex(token) });
      return created ? token : undefined;
    },
  };
}

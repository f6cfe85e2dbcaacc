import type { Db, Sql } from './sql.js';

export interface AdminTokenRow {
  id: string;
  name: string;
  role: string;
}

interface NewToken {
  name: string;
  role: string;
  tokenHash: string;
}

export async function findActiveByHash(sql: Db, tokenHash: string): Promise<AdminTokenRow | undefined> {
  const [row] = await sql<AdminTokenRow[]>`
    select id, name, role from admin_tokens where token_hash = ${tokenHash} and revoked_at is null`;
  return row;
}

export async function touch(sql: Db, id: string): Promise<void> {
  await sql`update admin_tokens set last_used_at = now() where id = ${id}`;
}

export async function insert(sql: Db, t: NewToken): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into admin_tokens (name, role, token_hash) values (${t.name}, ${t.role}, ${t.tokenHash}) returning id`;
  return row!.id;
}

/**
 * Makes `t` the one active token under its name: inserted (or re-activated, renamed and given the
 * role) by hash, and every other active token of that name revoked. So changing ADMIN_TOKEN and
 * restarting retires the old one. Serialised: two processes starting at once agree on the result.
 */
export async function replaceNamed(sql: Sql, t: NewToken): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727002)`;
    await tx`
      insert into admin_tokens (name, role, token_hash) values (${t.name}, ${t.role}, ${t.tokenHash})
      on conflict (token_hash) do update set revoked_at = null, role = excluded.role, name = excluded.name`;
    await tx`
      update admin_tokens set revoked_at = now()
      where name = ${t.name} and token_hash <> ${t.tokenHash} and revoked_at is null`;
  });
}

/** Inserts only while no active admin token exists; the lock keeps two first starts from both generating one. */
export async function insertIfNoAdmin(sql: Sql, t: NewToken): Promise<boolean> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727002)`;
    const rows = await tx`
      insert into admin_tokens (name, role, token_hash)
      select ${t.name}, ${t.role}, ${t.tokenHash}
      where not exists (select 1 from admin_tokens where role = 'admin' and revoked_at is null)
      returning id`;
    return rows.length > 0;
  }) as Promise<boolean>;
}

export async function revoke(sql: Db, id: string): Promise<boolean> {
  const rows = await sql`update admin_tokens set revoked_at = now() where id = ${id} and revoked_at is null returning id`;
  return rows.length > 0;
}

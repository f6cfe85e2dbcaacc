/** whatsapp_status: the one row where the WhatsApp process publishes its state for the others. */
import type { Db } from '../sql.js';

export interface StatusRow<S extends string = string> {
  state: S;
  qr: string | null;
  detail: string | null;
  updatedAt: Date;
}

export async function publishStatus(db: Db, s: { state: string; qr?: string; detail?: string }): Promise<void> {
  await db`
    insert into whatsapp_status (id, state, qr, detail, updated_at)
    values (true, ${s.state}, ${s.qr ?? null}, ${s.detail ?? null}, now())
    on conflict (id) do update set state = excluded.state, qr = excluded.qr, detail = excluded.detail,
      updated_at = now()`;
}

export async function readStatus<S extends string>(db: Db): Promise<StatusRow<S> | undefined> {
  const [row] = await db<StatusRow<S>[]>`select state, qr, detail, updated_at from whatsapp_status where id`;
  return row;
}

/** Asks the WhatsApp process to log out (it takes the request at its next report). */
export async function requestLogout(db: Db): Promise<void> {
  await db`
    insert into whatsapp_status (id, state, updated_at, logout_requested_at) values (true, 'starting', now() - interval '1 day', now())
    on conflict (id) do update set logout_requested_at = now()`;
}

/** True once for each logout request. */
export async function takeLogoutRequest(db: Db): Promise<boolean> {
  const taken = await db`update whatsapp_status set logout_requested_at = null where id and logout_requested_at is not null returning 1`;
  return taken.length > 0;
}

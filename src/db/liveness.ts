/**
 * Which processes are alive, and the claims of those that are not (issue 25; migration 0020).
 * A process heartbeats every couple of seconds; its claims carry its id (set by a trigger from the
 * connection's application_name). A claim whose owner has not been seen for `deadAfterMs` goes
 * back to the queue: a killed process's rows are sent within seconds, not after the 30-60 s
 * time-based stale limit, which stays for claims without an owner.
 */
import type { Db } from './sql.js';

export const applicationNameOf = (processId: string): string => `punkto:${processId}`;

export async function heartbeat(db: Db, processId: string): Promise<void> {
  await db`insert into process_heartbeats (id) values (${processId})
           on conflict (id) do update set seen_at = now()`;
}

/** A clean shutdown: the process is gone now, not in a few seconds. */
export async function forget(db: Db, processId: string): Promise<void> {
  await db`delete from process_heartbeats where id = ${processId}`;
}

/**
 * Claims (outbox and broadcast deliveries) of processes not seen for `deadAfterMs`, other than
 * `self`, put back to be sent. Heartbeats older than an hour are removed.
 */
export async function releaseClaimsOfDead(db: Db, self: string, deadAfterMs: number): Promise<{ outbox: number; deliveries: number }> {
  const secs = deadAfterMs / 1000;
  const outbox = await db`
    update outbox o set status = 'pending', generation = generation + 1, claimed_at = null
     where o.status = 'sending' and o.claimed_by is not null and o.claimed_by <> ${self}
       and not exists (select 1 from process_heartbeats h
                        where h.id = o.claimed_by and h.seen_at > now() - make_interval(secs => ${secs}))
    returning 1`;
  const deliveries = await db`
    update broadcast_deliveries d
       set status = case when b.status = 'cancelled' then 'cancelled' else 'queued' end, claimed_at = null
      from broadcasts b
     where d.status = 'sending' and d.claimed_by is not null and d.claimed_by <> ${self} and b.id = d.broadcast_id
       and not exists (select 1 from process_heartbeats h
                        where h.id = d.claimed_by and h.seen_at > now() - make_interval(secs => ${secs}))
    returning 1`;
  await db`delete from process_heartbeats where seen_at < now() - interval '1 hour'`;
  return { outbox: outbox.length, deliveries: deliveries.length };
}

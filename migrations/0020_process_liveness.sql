-- Claims of a dead process released within seconds instead of 30-60 (issue 25).
--
-- Every Punkto process writes a heartbeat row every two seconds. A row it claims for sending
-- (outbox, broadcast_deliveries) records which process claimed it: the trigger takes the process
-- id from the connection's application_name ('punkto:<uuid>', set by the process's pool), so the
-- claim statements themselves stay as they are. A claim whose process has not been seen for a few
-- seconds is put back (src/db/liveness.ts); claims without an owner (other tools, older processes)
-- keep the time-based release.
create table process_heartbeats (
  id uuid primary key,
  started_at timestamptz not null default now(),
  seen_at timestamptz not null default now()
);

alter table outbox add column claimed_by uuid;
alter table broadcast_deliveries add column claimed_by uuid;

create function punkto_claimed_by() returns trigger language plpgsql as $$
declare
  app text := current_setting('application_name', true);
begin
  if new.status = 'sending' and old.status is distinct from 'sending' then
    new.claimed_by := case when app ~ '^punkto:[0-9a-f-]{36}$' then substr(app, 8)::uuid end;
  elsif new.status <> 'sending' then
    new.claimed_by := null;
  end if;
  return new;
end $$;

create trigger outbox_claimed_by before update of status on outbox
  for each row execute function punkto_claimed_by();
create trigger broadcast_deliveries_claimed_by before update of status on broadcast_deliveries
  for each row execute function punkto_claimed_by();

create index outbox_claimed_by on outbox (claimed_by) where status = 'sending';
create index broadcast_deliveries_claimed_by on broadcast_deliveries (claimed_by) where status = 'sending';

-- Broadcasts (issue 8): one row per broadcast, one delivery row per recipient. The delivery rows
-- are the source of truth for "who got it": the sender claims a row, sends, then marks it, and a
-- restart resumes from the rows that are still queued (or claimed by a process that died).

create table broadcasts (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  -- manual: a manager's; campaign_start / campaign_end / expiry_reminder: scheduled by Punkto
  kind text not null default 'manual'
    check (kind in ('manual', 'campaign_start', 'campaign_end', 'expiry_reminder')),
  -- Unique business key of an automatic broadcast (campaign:<id>:start, expiry:<day>): each is
  -- created, and so sent, once.
  source_key text unique,
  -- manual: {pl?, pt?, be?} texts; automatic: {key, params} of a locales/*/broadcasts.json text
  message jsonb not null,
  image jsonb,
  buttons jsonb,
  audience jsonb not null default '{}'::jsonb,
  status text not null default 'scheduled'
    check (status in ('scheduled', 'fanning_out', 'sending', 'paused', 'done', 'cancelled')),
  send_at timestamptz not null default now(),
  -- keyset cursor of the fan-out (last participant id written); null before the first batch
  fanout_cursor uuid,
  fanout_done boolean not null default false,
  total integer not null default 0,
  created_by text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index broadcasts_due on broadcasts (send_at) where status in ('scheduled', 'fanning_out');
create index broadcasts_active on broadcasts (created_at) where status = 'sending';

create table broadcast_deliveries (
  id bigserial primary key,
  broadcast_id uuid not null references broadcasts (id),
  participant_id uuid not null,
  identity_id uuid,
  channel text not null,
  external_id text not null,
  chat_id text not null,
  locale text not null check (locale in ('pl', 'pt', 'be')),
  -- per-recipient values for an automatic message (points that expire, the day)
  params jsonb,
  status text not null default 'queued'
    check (status in ('queued', 'sending', 'sent', 'failed', 'unreachable', 'opted_out', 'cancelled')),
  attempts integer not null default 0,
  not_before timestamptz,
  claimed_at timestamptz,
  sent_at timestamptz,
  provider_message_id text,
  last_error text,
  unique (broadcast_id, participant_id)
);
-- What the senders claim: queued rows of one broadcast on one channel, in order.
create index broadcast_deliveries_queued on broadcast_deliveries (broadcast_id, channel, id) where status = 'queued';
create index broadcast_deliveries_claimed on broadcast_deliveries (claimed_at) where status = 'sending';
create index broadcast_deliveries_counts on broadcast_deliveries (broadcast_id, status);

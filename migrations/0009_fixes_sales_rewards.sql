-- Clawbacks of points paid for sales later found invalid, and of the target bonuses those sales
-- earned. When the participant has already spent the points, what is available is taken at once
-- and the rest stays owed here (`taken` < `points`) until later sell-out imports collect it.
create table clawbacks (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  campaign_id uuid not null references campaigns (id),
  participant_id uuid not null,
  sale_id uuid not null references sales (id),
  -- the ledger transfer being taken back: the sale's earn/confirm or a target bonus
  transfer_key text not null unique,
  kind text not null check (kind in ('sale', 'bonus')),
  target_id uuid references targets (id),
  points integer not null check (points > 0),
  taken integer not null default 0,
  -- when the points were reserved against the campaign's caps: the day whose tally gets them back
  reserved_at timestamptz not null,
  created_at timestamptz not null,
  settled_at timestamptz,
  check (taken between 0 and points)
);
create index clawbacks_open on clawbacks (program_id, created_at) where settled_at is null;
create index clawbacks_sale on clawbacks (sale_id);

-- A bonus withdrawn because the sale that completed its target was rejected; if the target is
-- reached again the award is re-armed under the next generation (a new ledger key).
alter table target_awards
  add column revoked_at timestamptz,
  add column generation integer not null default 1;

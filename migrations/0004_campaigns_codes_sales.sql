-- Campaigns, redeemable codes (stored only as keyed hashes), guess lockouts, products, sales and
-- targets. Participants live in 0003; rows here carry participant ids without a foreign key so
-- erasure (which keeps the id, anonymised) never has to touch them.

create table campaigns (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  name text not null,
  names jsonb not null default '{}'::jsonb,
  descriptions jsonb not null default '{}'::jsonb,
  status text not null default 'draft' check (status in ('draft', 'active', 'ended')),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  audience_roles text[] not null default '{}',
  stores text[] not null default '{}',
  regions text[] not null default '{}',
  multipliers jsonb not null default '[]'::jsonb,
  cap_per_day integer check (cap_per_day > 0),
  cap_per_campaign integer check (cap_per_campaign > 0),
  -- Points the campaign may award in total; null = no budget. `awarded` is only kept for
  -- campaigns with a budget (one counter row would serialise every award otherwise).
  budget bigint check (budget > 0),
  awarded bigint not null default 0,
  budget_exhausted_at timestamptz,
  requires_approval boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ends_at > starts_at),
  check (budget is null or awarded <= budget)
);
create index campaigns_program_window on campaigns (program_id, starts_at, ends_at);

create table products (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  sku text not null,
  ean text,
  name text not null,
  names jsonb not null default '{}'::jsonb,
  unique (program_id, sku)
);
create index products_ean on products (program_id, ean) where ean is not null;

create table campaign_products (
  campaign_id uuid not null references campaigns (id),
  product_id uuid not null references products (id),
  points_per_unit integer not null check (points_per_unit > 0),
  primary key (campaign_id, product_id)
);

create table code_batches (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  campaign_id uuid not null references campaigns (id),
  source text not null check (source in ('generated', 'imported')),
  label text,
  points integer not null check (points > 0),
  prefix text not null default '',
  length integer not null,
  expires_at timestamptz,
  uses_per_code integer not null default 1 check (uses_per_code > 0),
  audience_role text,
  code_count integer not null default 0,
  created_by text not null,
  created_at timestamptz not null default now()
);
create index code_batches_campaign on code_batches (campaign_id);

-- HMAC-SHA256(CODE_SECRET, canonical code). The secret is not in the database, so a dump reveals
-- no redeemable code. The unique index is what makes every code in the system distinct.
create table codes (
  id bigint generated always as identity primary key,
  batch_id uuid not null references code_batches (id),
  hash bytea not null,
  uses integer not null default 0,
  max_uses integer not null default 1 check (max_uses > 0),
  last_used_at timestamptz,
  check (uses between 0 and max_uses)
);
create unique index codes_hash on codes (hash);
create index codes_batch on codes (batch_id);

create table code_redemptions (
  id bigint generated always as identity primary key,
  code_id bigint not null references codes (id),
  participant_id uuid not null,
  campaign_id uuid not null references campaigns (id),
  points integer not null,
  channel text,
  redeemed_at timestamptz not null,
  unique (code_id, participant_id)
);
create index code_redemptions_participant on code_redemptions (participant_id, redeemed_at);

-- Per-participant award totals for caps: period = 'total' or a local day 'YYYY-MM-DD'.
create table campaign_tallies (
  campaign_id uuid not null references campaigns (id),
  participant_id uuid not null,
  period text not null,
  points bigint not null default 0,
  primary key (campaign_id, participant_id, period)
);

-- Unknown-code guesses per subject ('p:<participant id>' or 'i:<channel>:<external id>').
create table code_guesses (
  id bigint generated always as identity primary key,
  subject text not null,
  at timestamptz not null
);
create index code_guesses_subject_at on code_guesses (subject, at);

create table code_lockouts (
  subject text primary key,
  participant_id uuid,
  level integer not null default 0,
  locked_at timestamptz not null,
  until timestamptz not null
);
create index code_lockouts_until on code_lockouts (until);

create table sales (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  campaign_id uuid not null references campaigns (id),
  participant_id uuid not null,
  store text,
  product_id uuid not null references products (id),
  quantity integer not null check (quantity between 1 and 10000),
  invoice text not null,
  invoice_norm text not null,
  photo_ref text,
  points integer not null check (points >= 0),
  status text not null check (status in ('pending', 'confirmed', 'rejected')),
  decided_at timestamptz,
  decided_by text,
  decision_note text,
  -- true once points were paid and later taken back (clawback after a sell-out check)
  clawed_back boolean not null default false,
  created_at timestamptz not null,
  unique (participant_id, invoice_norm)
);
create index sales_campaign_status on sales (campaign_id, status);
create index sales_invoice on sales (program_id, invoice_norm);

create table targets (
  id uuid primary key default gen_random_uuid(),
  campaign_id uuid not null references campaigns (id),
  participant_id uuid,
  store text,
  metric text not null check (metric in ('units', 'points')),
  goal integer not null check (goal > 0),
  bonus_points integer not null check (bonus_points >= 0),
  created_at timestamptz not null default now(),
  check ((participant_id is null) <> (store is null))
);
create index targets_participant on targets (participant_id) where participant_id is not null;
create index targets_store on targets (store) where store is not null;

create table target_awards (
  target_id uuid not null references targets (id),
  participant_id uuid not null,
  points integer not null,
  awarded_at timestamptz not null,
  primary key (target_id, participant_id)
);

-- Rewards catalogue, e-voucher pools and reward orders.

create table rewards (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  type text not null check (type in ('physical', 'e_voucher', 'cash_out')),
  status text not null default 'active' check (status in ('active', 'hidden', 'archived')),
  -- { pl: "…", pt: "…", be: "…" }; at least one language
  names jsonb not null,
  descriptions jsonb not null default '{}'::jsonb,
  image_url text,
  -- points per unit; for cash-out: points per one unit of money (see cash_out)
  cost bigint not null check (cost > 0),
  -- physical only; null = unlimited. E-voucher stock is the count of unassigned pool codes.
  stock integer check (stock is null or stock >= 0),
  available_from timestamptz,
  available_until timestamptz,
  -- roles that see it; empty = everyone
  roles text[] not null default '{}',
  limit_per_participant integer check (limit_per_participant is null or limit_per_participant > 0),
  -- cash-out: { currency, step, min, max } in whole units of money
  cash_out jsonb,
  -- an alert goes to managers when the pool or stock falls to this level (once per refill)
  low_stock_threshold integer not null default 10 check (low_stock_threshold >= 0),
  low_stock_alerted_at timestamptz,
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (available_until is null or available_from is null or available_until > available_from),
  check ((type = 'cash_out') = (cash_out is not null)),
  check (type = 'physical' or stock is null)
);
create index rewards_catalogue on rewards (program_id, status, sort_order, cost);

-- E-voucher codes: AES-256-GCM ciphertext (iv | tag | data) and a keyed hash to refuse duplicates.
create table reward_vouchers (
  id bigserial primary key,
  reward_id uuid not null references rewards (id),
  code_enc bytea not null,
  code_hash bytea not null,
  import_id uuid not null,
  order_id uuid,
  assigned_at timestamptz,
  created_at timestamptz not null default now(),
  unique (reward_id, code_hash)
);
-- The free pool, in import order: what `for update skip locked` walks.
create index reward_vouchers_free on reward_vouchers (reward_id, id) where order_id is null;

create table reward_orders (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  reward_id uuid not null references rewards (id),
  participant_id uuid not null references participants (id),
  -- carried in the chat's confirm button: a double tap finds the first order
  request_key text not null,
  type text not null check (type in ('physical', 'e_voucher', 'cash_out')),
  status text not null check (status in ('ordered', 'shipped', 'delivered', 'cancelled')),
  points bigint not null check (points > 0),
  -- cash-out: the amount of money asked for, in whole units
  cash_amount integer,
  currency text,
  -- physical: { name, method: address|pickup, address?, store? }; cash-out: { payout }
  delivery jsonb not null default '{}'::jsonb,
  voucher_id bigint references reward_vouchers (id),
  tracking text,
  cancel_reason text,
  cancelled_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  shipped_at timestamptz,
  delivered_at timestamptz,
  cancelled_at timestamptz,
  unique (program_id, request_key)
);
create index reward_orders_participant on reward_orders (participant_id, created_at desc);
create index reward_orders_status on reward_orders (program_id, status, created_at);
create index reward_orders_reward on reward_orders (reward_id, participant_id) where status <> 'cancelled';
alter table reward_vouchers add constraint reward_vouchers_order foreign key (order_id) references reward_orders (id);
create unique index reward_vouchers_one_per_order on reward_vouchers (order_id) where order_id is not null;

-- Every status change, who made it and why: the participant's and the manager's history.
create table reward_order_events (
  id bigserial primary key,
  order_id uuid not null references reward_orders (id),
  status text not null,
  actor text not null,
  reason text,
  at timestamptz not null default now()
);
create index reward_order_events_order on reward_order_events (order_id, id);

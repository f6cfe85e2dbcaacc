-- Programs, admin tokens and the audit log: what every other area hangs off.

create table programs (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique,
  name text not null,
  default_locale text not null default 'pl' check (default_locale in ('pl', 'pt', 'be')),
  time_zone text not null default 'Europe/Warsaw',
  terms_version text not null default '1',
  -- null: points never expire; otherwise months from the day they are earned
  point_validity_months integer check (point_validity_months is null or point_validity_months > 0),
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

-- One deployment serves one program today; every domain row still carries program_id.
insert into programs (slug, name) values ('default', 'Punkto');

create table admin_tokens (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  role text not null check (role in ('admin', 'manager', 'moderator', 'viewer')),
  -- sha-256 of the bearer token; the token itself is shown once and never stored
  token_hash text not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table audit_log (
  id bigserial primary key,
  actor text not null,
  action text not null,
  target text,
  details jsonb not null default '{}'::jsonb,
  at timestamptz not null default now()
);
create index audit_log_target on audit_log (target, at);

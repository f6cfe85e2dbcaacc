-- WhatsApp channel: the last numbered menu per chat, the daily send counter, the RemoteAuth
-- session archive and the client's status (read by the web process when WhatsApp runs in its own).

-- The menu most recently sent to a participant, so "2" or the option's text maps back to a choice.
create table whatsapp_menus (
  external_id text primary key,
  -- [{"label": "...", "value": "..."}] in the order they were numbered
  options jsonb not null,
  sent_at timestamptz not null default now()
);

-- Sends per UTC day: the cap protects the number from being banned for bulk sending.
create table whatsapp_daily_sends (
  day date primary key,
  replies integer not null default 0 check (replies >= 0),
  broadcasts integer not null default 0 check (broadcasts >= 0)
);

-- whatsapp-web.js RemoteAuth: the zipped browser profile of the linked device.
create table whatsapp_sessions (
  session text primary key,
  archive bytea not null,
  saved_at timestamptz not null default now()
);

-- One row: what the WhatsApp process last reported, and a pending logout request from the API.
create table whatsapp_status (
  id boolean primary key default true check (id),
  state text not null check (state in ('off', 'starting', 'qr', 'ready', 'disconnected')),
  qr text,
  detail text,
  updated_at timestamptz not null default now(),
  logout_requested_at timestamptz
);

-- Participants, their channel identities and consents; the dialog's inbox, conversation state and
-- outbox; the web chat's message store.

create table participants (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  status text not null default 'active' check (status in ('active', 'blocked', 'erased')),
  -- null until chosen during registration
  role text check (role in ('consumer', 'retail_staff', 'sales_rep', 'installer', 'moderator', 'manager')),
  -- the participant's own choice; null: resolved from the channel hint / phone / program default
  locale text check (locale in ('pl', 'pt', 'be')),
  name text,
  -- E.164 with '+'
  phone text,
  phone_verified boolean not null default false,
  -- store or company of staff, sales reps and installers
  store text,
  -- answers to the program's optional profile questions: { questionId: answer | null (skipped) }
  profile jsonb not null default '{}'::jsonb,
  consent_version text,
  consent_at timestamptz,
  muted boolean not null default false,
  registered_at timestamptz,
  erased_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- One participant per verified phone per program: the same phone on a second channel links here.
create unique index participants_verified_phone on participants (program_id, phone)
  where phone_verified and status <> 'erased';
create index participants_program_created on participants (program_id, created_at desc);
create index participants_search on participants (program_id, lower(name) text_pattern_ops);

create table consents (
  id bigserial primary key,
  participant_id uuid not null references participants (id),
  terms_version text not null,
  accepted boolean not null,
  at timestamptz not null
);
create index consents_participant on consents (participant_id, at);

create table channel_identities (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  channel text not null check (channel in ('telegram', 'whatsapp', 'web')),
  external_id text not null,
  chat_id text not null,
  -- null until the person registered (or linked) a participant
  participant_id uuid references participants (id),
  display_name text,
  locale_hint text,
  verified_phone text,
  unreachable_at timestamptz,
  unreachable_reason text,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  unique (program_id, channel, external_id)
);
create index channel_identities_participant on channel_identities (participant_id);

-- Conversation state per chat identity; the identity row lock serialises a conversation's messages.
create table conversations (
  identity_id uuid primary key references channel_identities (id) on delete cascade,
  state jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now()
);

-- A delivery with an already-seen (channel, message id) is acknowledged and ignored.
create table inbox (
  channel text not null,
  message_id text not null,
  received_at timestamptz not null default now(),
  primary key (channel, message_id)
);
create index inbox_received on inbox (received_at);

create table outbox (
  id bigserial primary key,
  program_id uuid not null references programs (id),
  channel text not null,
  external_id text not null,
  chat_id text not null,
  identity_id uuid references channel_identities (id) on delete set null,
  participant_id uuid references participants (id),
  -- reply: caused by an inbound message; notice: unprompted but personal; broadcast: bulk
  kind text not null check (kind in ('reply', 'notice', 'broadcast')),
  message jsonb not null,
  dedupe_key text unique,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'unreachable')),
  -- bumped whenever the row is rescheduled, so each schedule gets its own BullMQ job id
  generation integer not null default 0,
  attempts integer not null default 0,
  not_before timestamptz,
  claimed_at timestamptz,
  sent_at timestamptz,
  provider_message_id text,
  last_error text,
  created_at timestamptz not null default now()
);
create index outbox_undelivered on outbox (channel, chat_id, id) where status in ('pending', 'sending');
create index outbox_chat_sent on outbox (channel, chat_id, sent_at desc) where status = 'sent';
create index outbox_participant on outbox (participant_id);

-- The web chat channel: what the page polls for, and photos uploaded from it.
create table web_messages (
  id bigserial primary key,
  chat_id text not null,
  message jsonb not null,
  created_at timestamptz not null default now()
);
create index web_messages_chat on web_messages (chat_id, id);

create table web_uploads (
  id uuid primary key default gen_random_uuid(),
  chat_id text not null,
  mime_type text not null,
  bytes bytea not null,
  created_at timestamptz not null default now()
);

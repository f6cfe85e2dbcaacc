-- Receipt photos: what was read from them, duplicate signals, and the moderator's decision.
-- Participant ids carry no foreign key (as in 0004): erasure keeps the id, anonymised.

-- Campaign receipt rules (date window, minimum total, points, sellers, weekly limit, auto-approval);
-- shape: ReceiptRules in src/domain/receipts/rules.ts. A campaign without a row takes no receipts.
create table campaign_receipt_rules (
  campaign_id uuid primary key references campaigns (id),
  program_id uuid not null references programs (id),
  rules jsonb not null,
  updated_at timestamptz not null default now()
);

create table receipts (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null references programs (id),
  participant_id uuid not null,
  campaign_id uuid references campaigns (id),
  -- the chat message that brought it (channel:message id): one receipt per message
  source_ref text not null,
  status text not null default 'received' check (status in ('received', 'pending', 'approved', 'rejected')),
  media_key text not null,
  mime_type text not null,
  width integer not null,
  height integer not null,
  byte_size integer not null,
  image_sha256 text not null,
  -- 64-bit difference hash of the image: a near-duplicate hint, never a reason to reject
  image_dhash bit(64),
  caption text,
  qr_texts text[] not null default '{}',
  -- pt_at | br_nfce | pl_ksef | invalid:<format> | other | none
  reading text,
  document_key text,
  seller_tax_id text,
  issued_on date,
  total_minor bigint,
  currency text,
  fields jsonb not null default '{}'::jsonb,
  flags text[] not null default '{}',
  confidence real,
  computed_points integer check (computed_points >= 0),
  points integer check (points > 0),
  decided_by text,
  decided_at timestamptz,
  reject_reason text,
  reject_note text,
  processed_at timestamptz,
  created_at timestamptz not null default now(),
  check (status <> 'approved' or points is not null),
  unique (program_id, source_ref)
);
create index receipts_status on receipts (program_id, status, created_at);
create index receipts_participant on receipts (participant_id, created_at);
create index receipts_sha on receipts (program_id, image_sha256);
create index receipts_document on receipts (program_id, document_key) where document_key is not null;
-- One purchase is paid once, whoever photographs it: two approvals of one fiscal document cannot
-- both commit.
create unique index receipts_document_paid on receipts (program_id, document_key)
  where status = 'approved' and document_key is not null;

-- Review cards sent to moderators in chat, so a decision can tell the others it is taken.
create table receipt_review_cards (
  receipt_id uuid not null references receipts (id),
  moderator_id uuid not null,
  sent_at timestamptz not null default now(),
  primary key (receipt_id, moderator_id)
);

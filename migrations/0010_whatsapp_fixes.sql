-- WhatsApp review fixes (issue 9).

-- Messages the WhatsApp process has actually sent, by the sender's key (`outbox:<id>`): a message
-- handed over again (a retry, a stale claim, a Redis flush) is answered from here instead of being
-- sent twice. Kept for a month; pruned by the WhatsApp process.
create table whatsapp_sent (
  key text primary key,
  provider_message_id text,
  sent_at timestamptz not null default now()
);
create index whatsapp_sent_at on whatsapp_sent (sent_at);

-- `…@lid` senders: the phone behind each privacy id, and the external id chosen for it the first
-- time it wrote. That choice never changes, so a later failed lookup cannot split a participant.
create table whatsapp_lids (
  lid text primary key,
  phone_digits text,
  external_id text not null,
  first_seen_at timestamptz not null default now(),
  resolved_at timestamptz
);

-- The message path, continued (issue 5's redeem benchmark; figures in the README). Each change
-- takes work off every message without changing what any statement answers.
--
-- 1. A conversation's identity row is only locked, not rewritten, when nothing about it changed.
--    The engine's opening upserts the chat identity to take the conversation's row lock; the
--    upsert also set last_seen_at = now(), so every message wrote a new row version (and its WAL)
--    for a timestamp. ON CONFLICT DO UPDATE locks the conflicting row even when its WHERE is false,
--    so the lock is kept and the row is written only when something changed or last_seen_at is a
--    minute old (it orders a participant's chats by recent use; a minute is plenty for that).
--
-- 2. The inbox's received_at index (used only by the 14-day clean-up) becomes BRIN: rows arrive in
--    time order, and a BRIN entry is updated once per block range instead of once per message.
--
-- 3. outbox.dedupe_key: replies have none, yet the unique index held an entry for each of them.
--    Only rows with a key are indexed now (the insert names the predicate in ON CONFLICT).
--
-- 4. Codes keep free space in their pages (fillfactor 90): a redemption's update of uses and
--    last_used_at (neither is indexed) then stays on its page as a HOT update instead of adding an
--    entry to each of the codes' three indexes. Codes are written in bulk by batch generation and
--    each is usually updated once, so 10 % per page is enough; it applies to codes written from now.

drop index inbox_received;
create index inbox_received on inbox using brin (received_at);

alter table outbox drop constraint outbox_dedupe_key_key;
create unique index outbox_dedupe_key on outbox (dedupe_key) where dedupe_key is not null;

alter table codes set (fillfactor = 90);

-- dialog_open() as in 0014, but for the upsert's WHERE (1. above).
create or replace function dialog_open(
  a_slug text, a_channel text[], a_external_id text[], a_chat_id text[], a_message_id text[],
  a_display_name text[], a_locale_hint text[], a_verified_phone text[])
returns setof dialog_opening language plpgsql as $$
declare
  v_program uuid;
  v_accepted int[];
begin
  select id into v_program from programs where slug = a_slug;
  if not found then
    return;
  end if;

  with m as (
    select * from unnest(a_channel, a_message_id) with ordinality as m(channel, message_id, ord)
  ), fresh as (
    insert into inbox (channel, message_id) select channel, message_id from m order by ord
    on conflict do nothing
    returning channel, message_id
  )
  select coalesce(array_agg(m.ord), '{}') into v_accepted
    from fresh join m on m.channel = fresh.channel and m.message_id = fresh.message_id;

  insert into channel_identities (program_id, channel, external_id, chat_id, display_name, locale_hint, verified_phone)
  select v_program, m.channel, m.external_id, m.chat_id, m.display_name, m.locale_hint, m.verified_phone
    from unnest(a_channel, a_external_id, a_chat_id, a_display_name, a_locale_hint, a_verified_phone)
         with ordinality as m(channel, external_id, chat_id, display_name, locale_hint, verified_phone, ord)
   where m.ord = any(v_accepted)
   order by m.ord
  on conflict (program_id, channel, external_id) do update set
    chat_id = excluded.chat_id,
    display_name = coalesce(excluded.display_name, channel_identities.display_name),
    locale_hint = coalesce(excluded.locale_hint, channel_identities.locale_hint),
    verified_phone = coalesce(excluded.verified_phone, channel_identities.verified_phone),
    unreachable_at = null, unreachable_reason = null,
    last_seen_at = now()
  where channel_identities.last_seen_at < now() - interval '1 minute'
     or channel_identities.unreachable_at is not null
     or channel_identities.chat_id is distinct from excluded.chat_id
     or (excluded.display_name is not null and channel_identities.display_name is distinct from excluded.display_name)
     or (excluded.locale_hint is not null and channel_identities.locale_hint is distinct from excluded.locale_hint)
     or (excluded.verified_phone is not null and channel_identities.verified_phone is distinct from excluded.verified_phone);

  return query
  select m.ord::int, m.ord = any(v_accepted),
         g.id, g.slug, g.name, g.default_locale, g.time_zone, g.terms_version, g.settings::text,
         c.state::text,
         v.id, v.program_id, v.channel, v.external_id, v.chat_id, v.participant_id, v.display_name, v.locale_hint,
         v.verified_phone, v.unreachable_at, v.unreachable_reason, v.created_at, v.last_seen_at,
         p.id, p.program_id, p.status, p.role, p.locale, p.name, p.phone, p.phone_verified, p.store, p.profile::text,
         p.consent_version, p.consent_at, p.muted, p.registered_at, p.erased_at, p.created_at
    from unnest(a_channel, a_external_id) with ordinality as m(channel, external_id, ord)
    join programs g on g.id = v_program
    left join channel_identities v
      on m.ord = any(v_accepted) and v.program_id = v_program and v.channel = m.channel and v.external_id = m.external_id
    left join participants p on p.id = v.participant_id
    left join conversations c on c.identity_id = v.id;
end $$;

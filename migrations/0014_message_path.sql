-- Opening messages in one call, and a credit that answers the balance (issue 5's redeem
-- benchmark; figures in the README).
--
-- The engine opened every message with three statements pipelined in one round trip: the inbox
-- row, the identity upsert (the conversation's row lock) and the read of program, participant and
-- state. Per statement the server pays a protocol exchange and an executor start, and the client a
-- query object, a write and a parse. Inside one plpgsql function the three cost one exchange, and
-- the engine's group commit opens a whole batch of messages with the same three statements.
--
-- It must stay three statements, not one: in READ COMMITTED a statement reads with the snapshot it
-- started with, so a single statement that waited for the conversation's lock would then read the
-- participant and state as they were before the previous message of the chat committed. Each
-- statement of a (volatile) plpgsql function takes a fresh snapshot, so the read after the lock sees
-- what the previous message wrote.
--
-- A repeated delivery (inbox conflict) writes nothing and answers accepted = false.

create type dialog_opening as (
  ord int,
  accepted boolean,
  id uuid, slug text, name text, default_locale text, time_zone text, terms_version text, settings text,
  state text,
  i_id uuid, i_program_id uuid, i_channel text, i_external_id text, i_chat_id text, i_participant_id uuid,
  i_display_name text, i_locale_hint text, i_verified_phone text, i_unreachable_at timestamptz,
  i_unreachable_reason text, i_created_at timestamptz, i_last_seen_at timestamptz,
  p_id uuid, p_program_id uuid, p_status text, p_role text, p_locale text, p_name text, p_phone text,
  p_phone_verified boolean, p_store text, p_profile text, p_consent_version text, p_consent_at timestamptz,
  p_muted boolean, p_registered_at timestamptz, p_erased_at timestamptz, p_created_at timestamptz);

-- One message, or a batch of them (the engine's group commit), opened in one call: three statements
-- over the whole batch (a batch of 16 took 1.45 ms opened one message at a time, 0.9 ms so).
-- Identities are upserted in the order given, which the engine sorts by chat, so two processes
-- lock conversations in one order; the read runs after every lock is held. `ord` says which
-- message a row answers; no row comes back when the program does not exist.
create function dialog_open(
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
    last_seen_at = now();

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

-- A credit answers what the participant can spend right after it (posted - held, read from the
-- row its UPDATE returns), so a code's reply needs no balance query of its own: on the message
-- path every statement cost about 50 µs of Node and 40 µs of server CPU (measured: the redeem
-- benchmark 10-13 % faster without it). A replay answers as before, without it.

create or replace function ledger_credit(
  p_kind text, p_program uuid, p_participant uuid, p_amount bigint, p_key text, p_hash text,
  p_source text, p_campaign uuid, p_reason_key text, p_reason_params jsonb,
  p_expiry_mode text, p_expires_at timestamptz, p_actor text, p_now timestamptz
) returns jsonb language plpgsql as $$
declare
  v_pending boolean := p_kind = 'pending';
  v_account bigint;
  v_counter bigint;
  v_expires timestamptz;
  v_counter_kind ledger_account_kind := case when p_kind = 'adjust' then 'adjustment' else 'issuance' end;
  v_counter_ref text := case when p_kind = 'adjust' then '' else coalesce(p_campaign::text, p_source) end;
  v_id bigint;
  v_available bigint;
begin
  if p_amount is null or p_amount <= 0 then
    raise exception 'ledger: amount must be a positive integer' using errcode = '22023';
  end if;
  if p_kind not in ('earn', 'pending', 'adjust') then
    raise exception 'ledger: % is not a credit', p_kind using errcode = '22023';
  end if;
  if p_expiry_mode = 'at' then
    v_expires := p_expires_at;
  elsif p_expiry_mode = 'default' and not v_pending then
    v_expires := ledger_lot_expiry(p_program, p_expiry_mode, p_expires_at, p_now);
  end if;

  -- the increment itself takes the row lock; the account is created on first use
  update ledger_accounts
     set posted = posted + case when v_pending then 0 else p_amount end,
         pending = pending + case when v_pending then p_amount else 0 end,
         lifetime_earned = lifetime_earned + case when v_pending then 0 else p_amount end
   where program_id = p_program and kind = 'participant' and ref = p_participant::text
  returning id, posted - held into v_account, v_available;
  if not found then
    insert into ledger_accounts as a (program_id, kind, ref, posted, pending, lifetime_earned)
    values (p_program, 'participant', p_participant::text,
            case when v_pending then 0 else p_amount end,
            case when v_pending then p_amount else 0 end,
            case when v_pending then 0 else p_amount end)
    on conflict (program_id, kind, ref) do update
      set posted = a.posted + excluded.posted, pending = a.pending + excluded.pending,
          lifetime_earned = a.lifetime_earned + excluded.lifetime_earned
    returning id, posted - held into v_account, v_available;
  end if;

  -- the system account's lookup inline (a nested plpgsql call costs more than the lookup)
  select id into v_counter from ledger_accounts
   where program_id = p_program and kind = v_counter_kind and ref = v_counter_ref;
  if not found then
    v_counter := ledger_system_account(p_program, v_counter_kind::text, v_counter_ref);
  end if;

  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, source, campaign_id, reason_key, reason_params, actor, expires_at,
                                expiry_mode, created_at)
  values (p_key, p_hash, p_program, p_participant, p_kind::ledger_transfer_kind, v_account, v_counter, p_amount,
          case when v_pending then 0 else 1 end, p_source::ledger_source, p_campaign,
          p_reason_key, p_reason_params, p_actor, v_expires,
          case when v_pending then p_expiry_mode::ledger_expiry_mode end, p_now)
  on conflict (key) do nothing returning id into v_id;
  if v_id is null then
    update ledger_accounts
       set posted = posted - case when v_pending then 0 else p_amount end,
           pending = pending - case when v_pending then p_amount else 0 end,
           lifetime_earned = lifetime_earned - case when v_pending then 0 else p_amount end
     where id = v_account;
    return ledger_replay(p_key, p_hash);
  end if;

  if not v_pending then
    insert into ledger_entries (transfer_id, account_id, amount)
    values (v_id, v_account, p_amount), (v_id, v_counter, -p_amount);
    insert into ledger_lots (account_id, transfer_id, amount, remaining, expires_at)
    values (v_account, v_id, p_amount, p_amount, v_expires);
  end if;
  return jsonb_build_object('status', 'ok', 'id', v_id, 'expiresAt', v_expires, 'available', v_available);
end $$;

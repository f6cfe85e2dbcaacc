-- The points ledger (issue 3): double entry, append-only, integer points.
--
-- Shape (see shared/notes/ledger.md for the anchors):
-- * ledger_accounts: one row per participant per program (created on first use) holding cached
--   balances, plus system accounts (issuance per campaign or source, redemption, expiry,
--   adjustment) whose rows are only looked up, never updated: their balances are derived from
--   entries, so every earn of a campaign does not queue on one hot row.
-- * ledger_transfers: one row per business operation, unique idempotency key. Holds and pending
--   credits are memo transfers (no entries) until posted/confirmed, as in TigerBeetle's two-phase
--   transfers; post/void/confirm/drop reference them, at most once (unique pending_id).
-- * ledger_entries: the postings of a transfer (signed, summing to zero).
-- * ledger_lots / ledger_lot_allocations: earned points in lots with an expiry; spending and holds
--   take from the lot that expires first. Only accounts' cached balances and lots.remaining change;
--   both can be rebuilt from the append-only tables, and ledger_check() proves they agree.
--
-- Every operation is one plpgsql function call: one round trip, one commit in autocommit, or one
-- statement inside a caller's transaction. Lock order everywhere: the participant's account row
-- first (all lot changes of an account happen under it), then the idempotency key.

create table ledger_accounts (
  id bigint generated always as identity primary key,
  program_id uuid not null references programs (id),
  kind text not null check (kind in ('participant', 'issuance', 'redemption', 'expiry', 'adjustment')),
  -- participant: the participant id; issuance: campaign id, else the source; others: ''
  ref text not null,
  posted bigint not null default 0,
  held bigint not null default 0,
  pending bigint not null default 0,
  lifetime_earned bigint not null default 0,
  created_at timestamptz not null default now(),
  unique (program_id, kind, ref),
  -- system accounts are never materialized
  check (kind = 'participant' or (posted = 0 and held = 0 and pending = 0 and lifetime_earned = 0)),
  -- backstop of the conditional updates: available (posted - held) never goes below zero
  check (held >= 0 and pending >= 0 and posted - held >= 0)
-- room on each page for the balance updates to stay HOT (no index maintenance per update)
) with (fillfactor = 70);

create table ledger_transfers (
  id bigint generated always as identity primary key,
  key text not null unique,
  -- hash of what the key stands for (kind, participant, amount, …): a reused key with another
  -- payload is a caller bug, refused rather than answered with the first result
  request_hash text not null,
  program_id uuid not null,
  participant_id uuid not null,
  kind text not null check (kind in ('earn', 'spend', 'hold', 'post', 'void', 'pending', 'confirm', 'drop',
                                     'adjust', 'reverse', 'expire')),
  -- the participant's account and the system account on the other side. No foreign keys on the
  -- write path: each costs a share-locking lookup per row (on a system account, a hot row again);
  -- the functions below are the only writers and ledger_check() verifies what a key would.
  account_id bigint not null,
  counter_account_id bigint not null,
  amount bigint not null check (amount > 0),
  -- which way the participant's posted balance moved: +1 credit, -1 debit, 0 memo (hold, void,
  -- pending, drop: they move held/pending, not posted, and have no entries)
  direction smallint not null check (direction in (-1, 0, 1)),
  source text check (source in ('code', 'receipt', 'sale', 'bonus', 'referral', 'adjustment')),
  campaign_id uuid,
  reason_key text not null,
  reason_params jsonb,
  actor text,
  -- credits: when the lot expires (null: never); pending: the expiry asked for at creation
  expires_at timestamptz,
  -- pending credits only: 'default' | 'never' | 'at', applied when confirmed
  expiry_mode text check (expiry_mode in ('default', 'never', 'at')),
  hold_expires_at timestamptz,
  pending_id bigint references ledger_transfers (id),
  reverses bigint references ledger_transfers (id),
  created_at timestamptz not null default now(),
  check ((kind in ('post', 'void', 'confirm', 'drop')) = (pending_id is not null)),
  check ((kind = 'reverse') = (reverses is not null)),
  check ((direction = 0) = (kind in ('hold', 'void', 'pending', 'drop')))
);
-- "a pending transfer resolves at most once"
create unique index ledger_transfers_one_resolution on ledger_transfers (pending_id) where pending_id is not null;
-- "a transfer is reversed at most once"
create unique index ledger_transfers_one_reversal on ledger_transfers (reverses) where reverses is not null;
create index ledger_transfers_history on ledger_transfers (account_id, id);
create index ledger_transfers_hold_timeouts on ledger_transfers (hold_expires_at)
  where kind = 'hold' and hold_expires_at is not null;

create table ledger_entries (
  transfer_id bigint not null,
  account_id bigint not null,
  amount bigint not null check (amount <> 0)
);
-- Entries are written in transfer order and read in bulk (reconciliation, derived balances of
-- system accounts); a BRIN index costs next to nothing per insert, unlike a btree.
create index ledger_entries_transfer on ledger_entries using brin (transfer_id);

create table ledger_lots (
  id bigint generated always as identity primary key,
  account_id bigint not null,
  transfer_id bigint not null,
  amount bigint not null check (amount > 0),
  remaining bigint not null check (remaining between 0 and amount),
  expires_at timestamptz
);
create index ledger_lots_fifo on ledger_lots (account_id, expires_at, id) where remaining > 0;
create index ledger_lots_due on ledger_lots (expires_at, id) where remaining > 0 and expires_at is not null;

create table ledger_lot_allocations (
  transfer_id bigint not null,
  lot_id bigint not null,
  -- positive: taken from the lot (spend, hold, expire, debit); negative: given back (void)
  amount bigint not null check (amount <> 0),
  primary key (transfer_id, lot_id)
);

-- Append-only, enforced in the database: corrections are new transfers.
create function ledger_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'ledger: % is append-only (% refused); correct with a new transfer', tg_table_name, tg_op
    using errcode = '55000';
end $$;

create trigger ledger_transfers_append_only before update or delete on ledger_transfers
  for each row execute function ledger_append_only();
create trigger ledger_transfers_no_truncate before truncate on ledger_transfers
  for each statement execute function ledger_append_only();
create trigger ledger_entries_append_only before update or delete on ledger_entries
  for each row execute function ledger_append_only();
create trigger ledger_entries_no_truncate before truncate on ledger_entries
  for each statement execute function ledger_append_only();
create trigger ledger_allocations_append_only before update or delete on ledger_lot_allocations
  for each row execute function ledger_append_only();
create trigger ledger_allocations_no_truncate before truncate on ledger_lot_allocations
  for each statement execute function ledger_append_only();

-- ---------------------------------------------------------------------------------------------
-- helpers

-- plpgsql rather than sql: its expressions keep cached plans, a sql function is planned per call
create function ledger_transfer_json(t ledger_transfers, p_replayed boolean) returns jsonb
language plpgsql stable as $$
declare
  v_related text;
begin
  if t.pending_id is not null or t.reverses is not null then
    select r.key into v_related from ledger_transfers r where r.id = coalesce(t.pending_id, t.reverses);
  end if;
  return jsonb_build_object(
    'id', t.id, 'key', t.key, 'kind', t.kind, 'programId', t.program_id, 'participantId', t.participant_id,
    'amount', t.amount, 'source', t.source, 'campaignId', t.campaign_id, 'reasonKey', t.reason_key,
    'reasonParams', t.reason_params, 'actor', t.actor, 'expiresAt', t.expires_at,
    'holdExpiresAt', t.hold_expires_at, 'relatedKey', v_related, 'createdAt', t.created_at,
    'replayed', p_replayed);
end $$;

-- The stored outcome of a key seen before, or a mismatch when it stood for something else.
create function ledger_replay(p_key text, p_hash text) returns jsonb language plpgsql stable as $$
declare
  t ledger_transfers;
begin
  select * into t from ledger_transfers where key = p_key;
  if not found then
    raise exception 'ledger: key % vanished during replay', p_key using errcode = 'XX000';
  end if;
  if t.request_hash <> p_hash then
    return jsonb_build_object('status', 'mismatch', 'key', p_key, 'kind', t.kind);
  end if;
  return jsonb_build_object('status', 'replay', 'transfer', ledger_transfer_json(t, true));
end $$;

-- System accounts are looked up (no lock) and created once; they are never updated.
create function ledger_system_account(p_program uuid, p_kind text, p_ref text) returns bigint
language plpgsql as $$
declare
  v bigint;
begin
  select id into v from ledger_accounts where program_id = p_program and kind = p_kind and ref = p_ref;
  if found then return v; end if;
  insert into ledger_accounts (program_id, kind, ref) values (p_program, p_kind, p_ref)
    on conflict (program_id, kind, ref) do nothing returning id into v;
  if v is null then
    select id into v from ledger_accounts where program_id = p_program and kind = p_kind and ref = p_ref;
  end if;
  return v;
end $$;

create function ledger_lot_expiry(p_program uuid, p_mode text, p_at timestamptz, p_now timestamptz)
returns timestamptz language plpgsql stable as $$
declare
  v_months integer;
begin
  if p_mode = 'at' then return p_at; end if;
  if p_mode = 'never' then return null; end if;
  select point_validity_months into v_months from programs where id = p_program;
  return case when v_months is null then null else p_now + make_interval(months => v_months) end;
end $$;

-- Takes p_amount from the account's lots, the soonest-expiring first (lots of p_prefer first),
-- recording allocations under p_transfer. Callers hold the account row lock, which serialises every
-- lot change of the account, so the lots need no row locks of their own.
create function ledger_allocate(p_account bigint, p_transfer bigint, p_amount bigint, p_prefer bigint)
returns void language plpgsql as $$
declare
  v_taken bigint;
  v_lot bigint;
  v_remaining bigint;
begin
  -- the common case: the first lot covers it (one index probe instead of a window over all lots)
  if p_prefer is null then
    select id, remaining into v_lot, v_remaining from ledger_lots
     where account_id = p_account and remaining > 0 order by expires_at, id limit 1;
    if v_remaining >= p_amount then
      update ledger_lots set remaining = remaining - p_amount where id = v_lot;
      insert into ledger_lot_allocations (transfer_id, lot_id, amount) values (p_transfer, v_lot, p_amount);
      return;
    end if;
  end if;
  with c as (
    select id, remaining,
           sum(remaining) over (order by (transfer_id = p_prefer) desc, expires_at nulls last, id) as cum
      from ledger_lots where account_id = p_account and remaining > 0
  ), t as (
    select id, least(remaining, p_amount - (cum - remaining)) as take from c where cum - remaining < p_amount
  ), u as (
    update ledger_lots l set remaining = l.remaining - t.take from t where l.id = t.id returning l.id, t.take
  ), ins as (
    insert into ledger_lot_allocations (transfer_id, lot_id, amount) select p_transfer, id, take from u returning amount
  )
  select coalesce(sum(amount), 0) into v_taken from ins;
  if v_taken <> p_amount then
    raise exception 'ledger: lots of account % cover % of %', p_account, v_taken, p_amount using errcode = 'XX000';
  end if;
end $$;

-- Expires what is left of a due lot; the caller holds the account row lock.
create function ledger_expire_locked(p_lot bigint, p_key text, p_now timestamptz) returns jsonb
language plpgsql as $$
declare
  l ledger_lots;
  v_acc ledger_accounts;
  v_counter bigint;
  v_key text;
  v_n integer := 1;
  t ledger_transfers;
begin
  select * into l from ledger_lots where id = p_lot;
  if l.remaining = 0 or l.expires_at is null or l.expires_at > p_now then
    return jsonb_build_object('status', 'nothing');
  end if;
  update ledger_accounts set posted = posted - l.remaining
   where id = l.account_id and posted - held >= l.remaining returning * into v_acc;
  if not found then
    raise exception 'ledger: lot % holds more than account % has available', p_lot, l.account_id using errcode = 'XX000';
  end if;
  v_counter := ledger_system_account(v_acc.program_id, 'expiry', '');
  -- a lot can expire more than once: points held when it expired come back when the hold is voided
  -- (with clocks that disagree, even after a sweep that saw the lot not yet due)
  v_key := p_key;
  while exists (select 1 from ledger_transfers where key = v_key) loop
    v_n := v_n + 1;
    v_key := p_key || ':' || v_n;
  end loop;
  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, reason_key, reason_params, actor, expires_at, created_at)
  values (v_key, md5('expire|' || p_lot), v_acc.program_id, v_acc.ref::uuid, 'expire', l.account_id, v_counter,
          l.remaining, -1, 'ledger:reason.expired', jsonb_build_object('expiredAt', l.expires_at), 'system',
          l.expires_at, p_now)
  on conflict (key) do nothing returning * into t;
  if not found then
    raise exception 'ledger: expiry key % already used', v_key using errcode = 'XX000';
  end if;
  insert into ledger_entries (transfer_id, account_id, amount)
  values (t.id, l.account_id, -l.remaining), (t.id, v_counter, l.remaining);
  insert into ledger_lot_allocations (transfer_id, lot_id, amount) values (t.id, p_lot, l.remaining);
  update ledger_lots set remaining = 0 where id = p_lot;
  return jsonb_build_object('status', 'expired', 'transfer', ledger_transfer_json(t, false));
end $$;

-- ---------------------------------------------------------------------------------------------
-- operations (each returns jsonb: {status, …}; 'replay'/'mismatch' for keys seen before)

-- earn | pending | adjust (credit)
create function ledger_credit(
  p_kind text, p_program uuid, p_participant uuid, p_amount bigint, p_key text, p_hash text,
  p_source text, p_campaign uuid, p_reason_key text, p_reason_params jsonb,
  p_expiry_mode text, p_expires_at timestamptz, p_actor text, p_now timestamptz
) returns jsonb language plpgsql as $$
declare
  v_pending boolean := p_kind = 'pending';
  v_account bigint;
  v_counter bigint;
  v_expires timestamptz;
  t ledger_transfers;
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
  returning id into v_account;
  if not found then
    insert into ledger_accounts as a (program_id, kind, ref, posted, pending, lifetime_earned)
    values (p_program, 'participant', p_participant::text,
            case when v_pending then 0 else p_amount end,
            case when v_pending then p_amount else 0 end,
            case when v_pending then 0 else p_amount end)
    on conflict (program_id, kind, ref) do update
      set posted = a.posted + excluded.posted, pending = a.pending + excluded.pending,
          lifetime_earned = a.lifetime_earned + excluded.lifetime_earned
    returning id into v_account;
  end if;

  v_counter := case when p_kind = 'adjust' then ledger_system_account(p_program, 'adjustment', '')
                    else ledger_system_account(p_program, 'issuance', coalesce(p_campaign::text, p_source)) end;

  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, source, campaign_id, reason_key, reason_params, actor, expires_at,
                                expiry_mode, created_at)
  values (p_key, p_hash, p_program, p_participant, p_kind, v_account, v_counter, p_amount,
          case when v_pending then 0 else 1 end, p_source, p_campaign,
          p_reason_key, p_reason_params, p_actor, v_expires, case when v_pending then p_expiry_mode end, p_now)
  on conflict (key) do nothing returning * into t;
  if not found then
    update ledger_accounts
       set posted = posted - case when v_pending then 0 else p_amount end,
           pending = pending - case when v_pending then p_amount else 0 end,
           lifetime_earned = lifetime_earned - case when v_pending then 0 else p_amount end
     where id = v_account;
    return ledger_replay(p_key, p_hash);
  end if;

  if not v_pending then
    insert into ledger_entries (transfer_id, account_id, amount)
    values (t.id, v_account, p_amount), (t.id, v_counter, -p_amount);
    insert into ledger_lots (account_id, transfer_id, amount, remaining, expires_at)
    values (v_account, t.id, p_amount, p_amount, v_expires);
  end if;
  return jsonb_build_object('status', 'ok', 'transfer', ledger_transfer_json(t, false));
end $$;

-- spend | hold | adjust (debit): the balance check is the WHERE of the update that takes the points
create function ledger_debit(
  p_kind text, p_program uuid, p_participant uuid, p_amount bigint, p_key text, p_hash text,
  p_campaign uuid, p_reason_key text, p_reason_params jsonb, p_actor text, p_hold_expires_at timestamptz,
  p_now timestamptz
) returns jsonb language plpgsql as $$
declare
  v_account bigint;
  v_counter bigint;
  v_available bigint;
  t ledger_transfers;
begin
  if p_amount is null or p_amount <= 0 then
    raise exception 'ledger: amount must be a positive integer' using errcode = '22023';
  end if;
  if p_kind not in ('spend', 'hold', 'adjust') then
    raise exception 'ledger: % is not a debit', p_kind using errcode = '22023';
  end if;
  -- the check and the write are one statement: Postgres re-evaluates the WHERE on the latest row
  -- version after waiting for a concurrent writer (READ COMMITTED), so two spends cannot both pass
  update ledger_accounts
     set held = held + case when p_kind = 'hold' then p_amount else 0 end,
         posted = posted - case when p_kind = 'hold' then 0 else p_amount end
   where program_id = p_program and kind = 'participant' and ref = p_participant::text
     and posted - held >= p_amount
  returning id into v_account;
  if not found then
    -- refused now, but it may repeat a debit that succeeded (it committed before we got the row)
    if exists (select 1 from ledger_transfers where key = p_key) then
      return ledger_replay(p_key, p_hash);
    end if;
    select posted - held into v_available from ledger_accounts
     where program_id = p_program and kind = 'participant' and ref = p_participant::text;
    return jsonb_build_object('status', 'insufficient', 'available', coalesce(v_available, 0));
  end if;

  v_counter := ledger_system_account(p_program, case when p_kind = 'adjust' then 'adjustment' else 'redemption' end, '');
  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, campaign_id, reason_key, reason_params, actor, hold_expires_at,
                                created_at)
  values (p_key, p_hash, p_program, p_participant, p_kind, v_account, v_counter, p_amount,
          case when p_kind = 'hold' then 0 else -1 end, p_campaign,
          p_reason_key, p_reason_params, p_actor, case when p_kind = 'hold' then p_hold_expires_at end, p_now)
  on conflict (key) do nothing returning * into t;
  if not found then
    if p_kind = 'hold' then
      update ledger_accounts set held = held - p_amount where id = v_account;
    else
      update ledger_accounts set posted = posted + p_amount where id = v_account;
    end if;
    return ledger_replay(p_key, p_hash);
  end if;

  if p_kind <> 'hold' then
    insert into ledger_entries (transfer_id, account_id, amount)
    values (t.id, v_account, -p_amount), (t.id, v_counter, p_amount);
  end if;
  -- holds take their lots now, so expiry cannot take points that are reserved
  perform ledger_allocate(v_account, t.id, p_amount, null);
  return jsonb_build_object('status', 'ok', 'transfer', ledger_transfer_json(t, false));
end $$;

-- post | void a hold, confirm | drop a pending credit: exactly once
create function ledger_resolve(
  p_pending_key text, p_action text, p_actor text, p_reason_key text, p_reason_params jsonb, p_now timestamptz
) returns jsonb language plpgsql as $$
declare
  p ledger_transfers;
  r ledger_transfers;
  t ledger_transfers;
  v_counter bigint;
  v_expires timestamptz;
  v_lot record;
  v_expired jsonb := '[]'::jsonb;
begin
  if p_action not in ('post', 'void', 'confirm', 'drop') then
    raise exception 'ledger: unknown resolution %', p_action using errcode = '22023';
  end if;
  select * into p from ledger_transfers where key = p_pending_key;
  if not found or (p.kind = 'hold') <> (p_action in ('post', 'void')) or p.kind not in ('hold', 'pending') then
    return jsonb_build_object('status', 'not_found');
  end if;
  perform 1 from ledger_accounts where id = p.account_id for update;
  select * into r from ledger_transfers where pending_id = p.id;
  if found then
    if r.kind = p_action then
      return jsonb_build_object('status', 'ok', 'transfer', ledger_transfer_json(r, true),
                                'original', ledger_transfer_json(p, false));
    end if;
    return jsonb_build_object('status', 'already_resolved', 'resolution', r.kind,
                              'transfer', ledger_transfer_json(r, false));
  end if;

  if p_action = 'post' then
    update ledger_accounts set held = held - p.amount, posted = posted - p.amount where id = p.account_id;
    v_counter := p.counter_account_id;
  elsif p_action = 'void' then
    update ledger_accounts set held = held - p.amount where id = p.account_id;
    v_counter := p.counter_account_id;
  elsif p_action = 'confirm' then
    update ledger_accounts
       set pending = pending - p.amount, posted = posted + p.amount, lifetime_earned = lifetime_earned + p.amount
     where id = p.account_id;
    v_counter := p.counter_account_id;
    v_expires := ledger_lot_expiry(p.program_id, p.expiry_mode, p.expires_at, p_now);
  else
    update ledger_accounts set pending = pending - p.amount where id = p.account_id;
    v_counter := p.counter_account_id;
  end if;

  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, source, campaign_id, reason_key, reason_params, actor, expires_at,
                                pending_id, created_at)
  values (p_pending_key || ':' || p_action, md5(p_action || '|' || p.id), p.program_id, p.participant_id, p_action,
          p.account_id, v_counter, p.amount,
          case p_action when 'post' then -1 when 'confirm' then 1 else 0 end, p.source, p.campaign_id,
          coalesce(p_reason_key, p.reason_key), case when p_reason_key is null then p.reason_params else p_reason_params end,
          p_actor, v_expires, p.id, p_now)
  on conflict (key) do nothing returning * into t;
  if not found then
    raise exception 'ledger: key %:% is already used by another transfer', p_pending_key, p_action using errcode = '23505';
  end if;

  if p_action = 'post' then
    insert into ledger_entries (transfer_id, account_id, amount)
    values (t.id, p.account_id, -p.amount), (t.id, v_counter, p.amount);
  elsif p_action = 'confirm' then
    insert into ledger_entries (transfer_id, account_id, amount)
    values (t.id, p.account_id, p.amount), (t.id, v_counter, -p.amount);
    insert into ledger_lots (account_id, transfer_id, amount, remaining, expires_at)
    values (p.account_id, t.id, p.amount, p.amount, v_expires);
  elsif p_action = 'void' then
    -- the points go back to the lots they came from
    with back as (
      select lot_id, sum(amount) as amt from ledger_lot_allocations where transfer_id = p.id group by lot_id
    ), u as (
      update ledger_lots l set remaining = l.remaining + back.amt from back where l.id = back.lot_id
      returning l.id, back.amt
    )
    insert into ledger_lot_allocations (transfer_id, lot_id, amount) select t.id, id, -amt from u;
    -- a lot that expired while its points were reserved expires them now
    for v_lot in
      select l.id from ledger_lot_allocations a join ledger_lots l on l.id = a.lot_id
       where a.transfer_id = t.id and l.remaining > 0 and l.expires_at <= p_now order by l.expires_at, l.id
    loop
      v_expired := v_expired || ledger_expire_locked(v_lot.id, 'expire:' || v_lot.id || ':' || t.key, p_now);
    end loop;
  end if;
  return jsonb_build_object('status', 'ok', 'transfer', ledger_transfer_json(t, false),
                            'original', ledger_transfer_json(p, false), 'expired', v_expired);
end $$;

-- A new transfer undoing an earlier one (earn, confirm, adjust, spend, post), at most once.
create function ledger_reverse(
  p_transfer_key text, p_key text, p_hash text, p_actor text, p_reason_key text, p_reason_params jsonb,
  p_now timestamptz
) returns jsonb language plpgsql as $$
declare
  o ledger_transfers;
  r ledger_transfers;
  t ledger_transfers;
  v_sign bigint;
  v_source bigint;
  v_lot record;
begin
  select * into o from ledger_transfers where key = p_transfer_key;
  if not found then return jsonb_build_object('status', 'not_found'); end if;
  if o.kind = 'hold' then
    -- reversing a reward order that was fulfilled means reversing its post
    select * into r from ledger_transfers where pending_id = o.id;
    if not found or r.kind <> 'post' then
      return jsonb_build_object('status', 'not_reversible', 'kind', o.kind);
    end if;
    o := r;
  end if;
  if o.kind not in ('earn', 'confirm', 'adjust', 'spend', 'post') then
    return jsonb_build_object('status', 'not_reversible', 'kind', o.kind);
  end if;
  perform 1 from ledger_accounts where id = o.account_id for update;

  select * into r from ledger_transfers where reverses = o.id;
  if found then
    if r.key = p_key then return ledger_replay(p_key, p_hash); end if;
    return jsonb_build_object('status', 'already_reversed', 'transfer', ledger_transfer_json(r, false));
  end if;
  if exists (select 1 from ledger_transfers where key = p_key) then
    return ledger_replay(p_key, p_hash);
  end if;

  v_sign := o.direction;
  if v_sign > 0 then
    -- the credit goes back out: only if the participant still has it available
    update ledger_accounts set posted = posted - o.amount, lifetime_earned = lifetime_earned - o.amount
     where id = o.account_id and posted - held >= o.amount;
    if not found then
      return jsonb_build_object('status', 'insufficient', 'available',
                                (select posted - held from ledger_accounts where id = o.account_id));
    end if;
  else
    update ledger_accounts set posted = posted + o.amount where id = o.account_id;
  end if;

  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, source, campaign_id, reason_key, reason_params, actor, reverses,
                                created_at)
  values (p_key, p_hash, o.program_id, o.participant_id, 'reverse', o.account_id, o.counter_account_id, o.amount,
          -v_sign, o.source, o.campaign_id, p_reason_key, p_reason_params, p_actor, o.id, p_now)
  returning * into t;
  insert into ledger_entries (transfer_id, account_id, amount)
  values (t.id, o.account_id, -v_sign * o.amount), (t.id, o.counter_account_id, v_sign * o.amount);

  if v_sign > 0 then
    perform ledger_allocate(o.account_id, t.id, o.amount, o.id);
  else
    -- the points come back with the expiry they had; already past it, they expire at once
    v_source := case when o.kind = 'post' then o.pending_id else o.id end;
    insert into ledger_lots (account_id, transfer_id, amount, remaining, expires_at)
    select o.account_id, t.id, sum(a.amount), sum(a.amount), l.expires_at
      from ledger_lot_allocations a join ledger_lots l on l.id = a.lot_id
     where a.transfer_id = v_source
     group by l.id, l.expires_at
    having sum(a.amount) > 0;
    for v_lot in select id from ledger_lots where transfer_id = t.id and expires_at <= p_now order by expires_at, id loop
      perform ledger_expire_locked(v_lot.id, 'expire:' || v_lot.id, p_now);
    end loop;
  end if;
  return jsonb_build_object('status', 'ok', 'transfer', ledger_transfer_json(t, false));
end $$;

-- One due lot, exactly once (key expire:<lot>).
create function ledger_expire_lot(p_lot bigint, p_now timestamptz) returns jsonb language plpgsql as $$
declare
  v_account bigint;
begin
  select account_id into v_account from ledger_lots where id = p_lot;
  if not found then return jsonb_build_object('status', 'nothing'); end if;
  perform 1 from ledger_accounts where id = v_account for update;
  return ledger_expire_locked(p_lot, 'expire:' || p_lot, p_now);
end $$;

-- Reconciliation: every row is a problem; none means the ledger agrees with itself.
create function ledger_check(p_limit integer default 200)
returns table (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
language sql stable as $$
  (
    select 'unbalanced_transfer', null::bigint, e.transfer_id, 0::bigint, sum(e.amount)::bigint
      from ledger_entries e group by e.transfer_id having sum(e.amount) <> 0 or count(*) <> 2
    union all
    select 'unbalanced_transfer', null, t.id, 0, null
      from ledger_transfers t
     where t.direction <> 0
       and not exists (select 1 from ledger_entries e
                        where e.transfer_id = t.id and e.account_id = t.account_id and e.amount = t.direction * t.amount)
    union all
    select 'balance_drift', a.id, null, coalesce(x.s, 0), a.posted
      from ledger_accounts a
      left join (select e.account_id, sum(e.amount)::bigint s from ledger_entries e group by e.account_id) x
        on x.account_id = a.id
     where a.kind = 'participant' and a.posted <> coalesce(x.s, 0)
    union all
    select 'held_mismatch', a.id, null, coalesce(h.s, 0), a.held
      from ledger_accounts a
      left join (select p.account_id, sum(p.amount)::bigint s from ledger_transfers p
                  where p.kind = 'hold' and not exists (select 1 from ledger_transfers r where r.pending_id = p.id)
                  group by p.account_id) h on h.account_id = a.id
     where a.kind = 'participant' and a.held <> coalesce(h.s, 0)
    union all
    select 'pending_mismatch', a.id, null, coalesce(h.s, 0), a.pending
      from ledger_accounts a
      left join (select p.account_id, sum(p.amount)::bigint s from ledger_transfers p
                  where p.kind = 'pending' and not exists (select 1 from ledger_transfers r where r.pending_id = p.id)
                  group by p.account_id) h on h.account_id = a.id
     where a.kind = 'participant' and a.pending <> coalesce(h.s, 0)
    union all
    select 'lots_mismatch', a.id, null, a.posted - a.held, coalesce(l.s, 0)
      from ledger_accounts a
      left join (select l.account_id, sum(l.remaining)::bigint s from ledger_lots l group by l.account_id) l
        on l.account_id = a.id
     where a.kind = 'participant' and a.posted - a.held <> coalesce(l.s, 0)
    union all
    select 'lot_allocation_mismatch', l.account_id, l.transfer_id, l.amount - coalesce(x.s, 0), l.remaining
      from ledger_lots l
      left join (select lot_id, sum(amount)::bigint s from ledger_lot_allocations group by lot_id) x on x.lot_id = l.id
     where l.remaining <> l.amount - coalesce(x.s, 0)
    union all
    select 'negative_available', a.id, null, 0, a.posted - a.held
      from ledger_accounts a where a.posted - a.held < 0 or a.held < 0 or a.pending < 0
    union all
    -- what foreign keys would guard (left off the write path for speed)
    select 'dangling_reference', e.account_id, e.transfer_id, null, null
      from ledger_entries e left join ledger_transfers t on t.id = e.transfer_id
     where t.id is null or e.account_id not in (t.account_id, t.counter_account_id)
    union all
    select 'dangling_reference', t.account_id, t.id, null, null
      from ledger_transfers t
     where not exists (select 1 from ledger_accounts a where a.id = t.account_id and a.kind = 'participant')
        or not exists (select 1 from ledger_accounts a where a.id = t.counter_account_id and a.kind <> 'participant')
    union all
    select 'dangling_reference', l.account_id, l.transfer_id, null, null
      from ledger_lots l
     where not exists (select 1 from ledger_transfers t where t.id = l.transfer_id and t.account_id = l.account_id)
    union all
    select 'dangling_reference', null, x.transfer_id, null, null
      from ledger_lot_allocations x
     where not exists (select 1 from ledger_transfers t where t.id = x.transfer_id)
        or not exists (select 1 from ledger_lots l where l.id = x.lot_id)
    union all
    select 'global_imbalance', null, null, 0, s from (select coalesce(sum(amount), 0)::bigint s from ledger_entries) g
     where s <> 0
  )
  limit p_limit
$$;

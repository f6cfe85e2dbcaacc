-- The ledger, leaner per transfer (issue 3's benchmark; figures in the README's performance part).
--
-- A profile of the server during `npm run bench:ledger` (perf, PostgreSQL 15) showed about a third
-- of its time per transfer in ExecConstraints: a CHECK constraint is kept as text in the catalog
-- and is parsed (stringToNode) and planned (expression_planner) again at every start of an
-- executor, and every INSERT/UPDATE a plpgsql function runs starts one. The eleven checks on the
-- ledger tables, the `kind in (…)` lists over text above all, cost more than the writes they
-- guarded (an earn: 300 → 220 µs of server CPU without them).
--
-- So, kept where a constraint is the rule itself, moved where it was bookkeeping:
-- * kinds, sources and expiry modes become enum types: the value is checked once, when it is
--   converted, at no per-statement cost, and a stray value still cannot be stored;
-- * available never below zero stays a CHECK on ledger_accounts (behind the conditional UPDATEs
--   that enforce it), in one small constraint instead of three;
-- * the shape rules (positive amounts; which kinds move posted points, which resolve a pending
--   transfer, which reverse one; system accounts never materialized; lots between zero and their
--   amount; entries non-zero) are properties of what
--   the ledger functions write. They are the only writers, and ledger_check() now reports any row
--   that breaks them (malformed_transfer, malformed_lot), like the foreign keys of 0002.

create type ledger_account_kind as enum ('participant', 'issuance', 'redemption', 'expiry', 'adjustment');
create type ledger_transfer_kind as enum (
  'earn', 'spend', 'hold', 'post', 'void', 'pending', 'confirm', 'drop', 'adjust', 'reverse', 'expire');
create type ledger_source as enum ('code', 'receipt', 'sale', 'bonus', 'referral', 'adjustment');
create type ledger_expiry_mode as enum ('default', 'never', 'at');

alter table ledger_accounts
  drop constraint ledger_accounts_kind_check,
  drop constraint ledger_accounts_check,
  drop constraint ledger_accounts_check1;
alter table ledger_transfers
  drop constraint ledger_transfers_kind_check,
  drop constraint ledger_transfers_amount_check,
  drop constraint ledger_transfers_direction_check,
  drop constraint ledger_transfers_source_check,
  drop constraint ledger_transfers_expiry_mode_check,
  drop constraint ledger_transfers_check,
  drop constraint ledger_transfers_check1,
  drop constraint ledger_transfers_check2;
alter table ledger_entries drop constraint ledger_entries_amount_check;
alter table ledger_lots drop constraint ledger_lots_amount_check, drop constraint ledger_lots_check;
alter table ledger_lot_allocations drop constraint ledger_lot_allocations_amount_check;

-- its predicate names the kind column, whose type changes
drop index ledger_transfers_hold_timeouts;
alter table ledger_accounts alter column kind type ledger_account_kind using kind::ledger_account_kind;
alter table ledger_transfers
  alter column kind type ledger_transfer_kind using kind::ledger_transfer_kind,
  alter column source type ledger_source using source::ledger_source,
  alter column expiry_mode type ledger_expiry_mode using expiry_mode::ledger_expiry_mode;
create index ledger_transfers_hold_timeouts on ledger_transfers (hold_expires_at)
  where kind = 'hold' and hold_expires_at is not null;

-- Idempotency keys and account refs are identifiers, never sorted for people: byte order ("C")
-- compares them with memcmp. The databases' default collation (even C.UTF-8 before PostgreSQL 17)
-- goes through strcoll, a few dozen times per btree descent into the key and account indexes.
alter table ledger_transfers alter column key type text collate "C";
alter table ledger_accounts alter column ref type text collate "C";

-- the rule itself, in as few nodes as it takes (its cost grows with the expression's size)
alter table ledger_accounts add constraint ledger_accounts_available check (posted >= held and held >= 0 and pending >= 0);

-- Whether a lot has points left gets a column of its own. The lot indexes were partial on
-- `remaining > 0`, which made every change of remaining (each spend, hold, void and expiry) a
-- non-HOT update writing new entries into every index of the table. Now only a lot running empty
-- (or refilled by a void) changes an indexed column; the functions keep open = (remaining > 0)
-- and ledger_check() verifies it.
alter table ledger_lots add column open boolean not null default true;
update ledger_lots set open = false where remaining = 0;
drop index ledger_lots_fifo;
drop index ledger_lots_due;
create index ledger_lots_fifo on ledger_lots (account_id, expires_at, id) where open;
create index ledger_lots_due on ledger_lots (expires_at, id) where open and expires_at is not null;
-- room on each page for those updates to stay on it
alter table ledger_lots set (fillfactor = 80);

-- Allocations are written in transfer order and read by transfer only when a hold is voided or a
-- transfer reversed; like entries, a BRIN index serves that at next to no cost per spend, where
-- the btree primary key cost an index insertion each. (transfer, lot) stays unique by
-- construction: each function allocates a lot once per transfer, and ledger_check sums by lot.
alter table ledger_lot_allocations drop constraint ledger_lot_allocations_pkey;
create index ledger_lot_allocations_transfer on ledger_lot_allocations using brin (transfer_id)
  with (pages_per_range = 16);

-- ---------------------------------------------------------------------------------------------
-- The functions that write a kind from a text parameter now convert it. A credit or debit that
-- went through answers with what the caller does not already know (the new id, the lot's expiry):
-- building and parsing the whole transfer as JSON was a tenth of the work of an earn.

create or replace function ledger_system_account(p_program uuid, p_kind text, p_ref text) returns bigint
language plpgsql as $$
declare
  v bigint;
begin
  select id into v from ledger_accounts where program_id = p_program and kind = p_kind::ledger_account_kind and ref = p_ref;
  if found then return v; end if;
  insert into ledger_accounts (program_id, kind, ref) values (p_program, p_kind::ledger_account_kind, p_ref)
    on conflict (program_id, kind, ref) do nothing returning id into v;
  if v is null then
    select id into v from ledger_accounts where program_id = p_program and kind = p_kind::ledger_account_kind and ref = p_ref;
  end if;
  return v;
end $$;

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
  return jsonb_build_object('status', 'ok', 'id', v_id, 'expiresAt', v_expires);
end $$;

create or replace function ledger_debit(
  p_kind text, p_program uuid, p_participant uuid, p_amount bigint, p_key text, p_hash text,
  p_campaign uuid, p_reason_key text, p_reason_params jsonb, p_actor text, p_hold_expires_at timestamptz,
  p_now timestamptz
) returns jsonb language plpgsql as $$
declare
  v_account bigint;
  v_counter bigint;
  v_available bigint;
  v_id bigint;
  v_lot bigint;
  v_remaining bigint;
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

  -- the system account's lookup inline (a nested plpgsql call costs more than the lookup)
  select id into v_counter from ledger_accounts
   where program_id = p_program and ref = ''
     and kind = (case when p_kind = 'adjust' then 'adjustment' else 'redemption' end)::ledger_account_kind;
  if not found then
    v_counter := ledger_system_account(p_program, case when p_kind = 'adjust' then 'adjustment' else 'redemption' end, '');
  end if;
  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, campaign_id, reason_key, reason_params, actor, hold_expires_at,
                                created_at)
  values (p_key, p_hash, p_program, p_participant, p_kind::ledger_transfer_kind, v_account, v_counter, p_amount,
          case when p_kind = 'hold' then 0 else -1 end, p_campaign,
          p_reason_key, p_reason_params, p_actor, case when p_kind = 'hold' then p_hold_expires_at end, p_now)
  on conflict (key) do nothing returning id into v_id;
  if v_id is null then
    if p_kind = 'hold' then
      update ledger_accounts set held = held - p_amount where id = v_account;
    else
      update ledger_accounts set posted = posted + p_amount where id = v_account;
    end if;
    return ledger_replay(p_key, p_hash);
  end if;

  if p_kind <> 'hold' then
    insert into ledger_entries (transfer_id, account_id, amount)
    values (v_id, v_account, -p_amount), (v_id, v_counter, p_amount);
  end if;
  -- holds take their lots now, so expiry cannot take points that are reserved. The common case
  -- inline: the first lot to expire covers it; otherwise ledger_allocate walks the lots.
  select id, remaining into v_lot, v_remaining from ledger_lots
   where account_id = v_account and open order by expires_at, id limit 1;
  if v_remaining >= p_amount then
    update ledger_lots set remaining = remaining - p_amount, open = remaining > p_amount where id = v_lot;
    insert into ledger_lot_allocations (transfer_id, lot_id, amount) values (v_id, v_lot, p_amount);
  else
    perform ledger_allocate(v_account, v_id, p_amount, null);
  end if;
  return jsonb_build_object('status', 'ok', 'id', v_id);
end $$;

create or replace function ledger_resolve(
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
    if r.kind::text = p_action then
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
    v_expires := ledger_lot_expiry(p.program_id, p.expiry_mode::text, p.expires_at, p_now);
  else
    update ledger_accounts set pending = pending - p.amount where id = p.account_id;
    v_counter := p.counter_account_id;
  end if;

  insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                amount, direction, source, campaign_id, reason_key, reason_params, actor, expires_at,
                                pending_id, created_at)
  values (p_pending_key || ':' || p_action, md5(p_action || '|' || p.id), p.program_id, p.participant_id,
          p_action::ledger_transfer_kind,
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
      update ledger_lots l set remaining = l.remaining + back.amt, open = l.remaining + back.amt > 0
        from back where l.id = back.lot_id
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

create or replace function ledger_check(p_limit integer default 200)
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
    -- the shape rules 0013 moved here from CHECK constraints
    select 'malformed_transfer', t.account_id, t.id, null, null
      from ledger_transfers t
     where t.amount <= 0
        or t.direction not in (-1, 0, 1)
        or (t.direction = 0) <> (t.kind in ('hold', 'void', 'pending', 'drop'))
        or (t.kind in ('post', 'void', 'confirm', 'drop')) <> (t.pending_id is not null)
        or (t.kind = 'reverse') <> (t.reverses is not null)
        or (t.kind in ('earn', 'pending') and t.source is null)
    union all
    select 'malformed_transfer', e.account_id, e.transfer_id, null, e.amount from ledger_entries e where e.amount = 0
    union all
    select 'malformed_transfer', null, x.transfer_id, null, x.amount from ledger_lot_allocations x where x.amount = 0
    union all
    select 'malformed_lot', l.account_id, l.transfer_id, l.amount, l.remaining
      from ledger_lots l where l.amount <= 0 or l.remaining < 0 or l.remaining > l.amount or l.open <> (l.remaining > 0)
    union all
    select 'malformed_account', a.id, null, 0, a.posted
      from ledger_accounts a
     where a.kind <> 'participant' and (a.posted <> 0 or a.held <> 0 or a.pending <> 0 or a.lifetime_earned <> 0)
    union all
    select 'global_imbalance', null, null, 0, s from (select coalesce(sum(amount), 0)::bigint s from ledger_entries) g
     where s <> 0
  )
  limit p_limit
$$;

create or replace function ledger_allocate(p_account bigint, p_transfer bigint, p_amount bigint, p_prefer bigint)
returns void language plpgsql as $$
declare
  v_taken bigint;
begin
  -- the common case (the first lot to expire covers a debit) is taken inline by ledger_debit; this
  -- walks the lots when it does not, and for reversals, which prefer the reversed credit's lot
  with c as (
    select id, remaining,
           sum(remaining) over (order by (transfer_id = p_prefer) desc, expires_at nulls last, id) as cum
      from ledger_lots where account_id = p_account and open
  ), t as (
    select id, least(remaining, p_amount - (cum - remaining)) as take from c where cum - remaining < p_amount
  ), u as (
    update ledger_lots l set remaining = l.remaining - t.take, open = l.remaining > t.take
      from t where l.id = t.id returning l.id, t.take
  ), ins as (
    insert into ledger_lot_allocations (transfer_id, lot_id, amount) select p_transfer, id, take from u returning amount
  )
  select coalesce(sum(amount), 0) into v_taken from ins;
  if v_taken <> p_amount then
    raise exception 'ledger: lots of account % cover % of %', p_account, v_taken, p_amount using errcode = 'XX000';
  end if;
end $$;

create or replace function ledger_expire_locked(p_lot bigint, p_key text, p_now timestamptz) returns jsonb
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
  update ledger_lots set remaining = 0, open = false where id = p_lot;
  return jsonb_build_object('status', 'expired', 'transfer', ledger_transfer_json(t, false));
end $$;

-- Many credits in one call (issue 5's redeem benchmark; figures in the README).
--
-- A batch of code messages credited each code with its own ledger_credit() call: five statements
-- and a nested ledger_lot_expiry() call per credit, each started, planned (generic) and finished by
-- the executor on its own. The credits were two thirds of the take-and-credit statement, the
-- largest part of a code message's server time. ledger_credit_many() writes the same rows with
-- one statement for all of them: one upsert of the accounts involved (in key order, so two batches
-- crediting the same accounts lock them in the same order), one insert each of transfers, entries
-- and lots.
--
-- It answers, for each credit, exactly what ledger_credit() would have answered had the credits
-- been made one after another in the order given, the balance included (the balance after that
-- credit, not after all of them). The one case it does not compute in bulk is a key that already
-- exists, or appears twice in the call: that credit is a replay with its own rules (the account's
-- increment undone, the first transfer's answer), so the bulk statement is rolled back and the
-- credits are made one by one with ledger_credit(), the same answer by the same code.
--
-- p_ords picks which positions of the argument arrays to credit (1-based), so a statement can
-- credit only the rows that another part of it took (the codes whose use it recorded).

create or replace function ledger_credit_many(
  p_ords bigint[], p_kind text[], p_program uuid[], p_participant uuid[], p_amount bigint[], p_key text[],
  p_hash text[], p_source text[], p_campaign uuid[], p_reason_key text[], p_reason_params jsonb[],
  p_expiry_mode text[], p_expires_at timestamptz[], p_actor text[], p_now timestamptz[]
) returns table (ord bigint, outcome jsonb) language plpgsql as $$
declare
  v_n int;
  v_inserted int;
  v_bad_amount boolean;
  v_bad_kind text;
  v_ords bigint[];
  v_outcomes jsonb[];
  v_ord bigint;
begin
  -- ledger_credit()'s own checks, on every credit before any is made
  select count(*)::int, bool_or(a.amount is null or a.amount <= 0),
         min(a.kind) filter (where a.kind not in ('earn', 'pending', 'adjust'))
    into v_n, v_bad_amount, v_bad_kind
    from unnest(p_kind, p_amount) with ordinality as a(kind, amount, ord)
   where a.ord = any(p_ords);
  if v_n = 0 then
    return;
  end if;
  if v_bad_amount then
    raise exception 'ledger: amount must be a positive integer' using errcode = '22023';
  end if;
  if v_bad_kind is not null then
    raise exception 'ledger: % is not a credit', v_bad_kind using errcode = '22023';
  end if;

  begin
    with k as (
      select c.*, c.kind = 'pending' as pending,
             case when c.kind = 'pending' then 0 else c.amount end as posted_delta,
             case when c.kind = 'pending' then c.amount else 0 end as pending_delta,
             (case when c.kind = 'adjust' then 'adjustment' else 'issuance' end)::ledger_account_kind as counter_kind,
             case when c.kind = 'adjust' then '' else coalesce(c.campaign::text, c.source) end as counter_ref,
             -- ledger_lot_expiry() for a credit, inline: called per row it cost 8 µs a credit
             -- (pg_stat_user_functions), more than the rest of this expression's work
             case when c.expiry_mode = 'at' then c.expires_at
                  when c.expiry_mode = 'default' and c.kind <> 'pending' then
                    (select c.now + make_interval(months => p.point_validity_months) from programs p where p.id = c.program)
             end as expires
        from unnest(p_kind, p_program, p_participant, p_amount, p_key, p_hash, p_source, p_campaign, p_reason_key,
                    p_reason_params, p_expiry_mode, p_expires_at, p_actor, p_now)
             with ordinality as c(kind, program, participant, amount, key, hash, source, campaign, reason_key,
                                  reason_params, expiry_mode, expires_at, actor, now, ord)
       where c.ord = any(p_ords)
    ), acc as (
      insert into ledger_accounts as a (program_id, kind, ref, posted, pending, lifetime_earned)
      select k.program, 'participant', k.participant::text, sum(k.posted_delta), sum(k.pending_delta), sum(k.posted_delta)
        from k group by k.program, k.participant::text
       order by k.program, k.participant::text
      on conflict (program_id, kind, ref) do update
        set posted = a.posted + excluded.posted, pending = a.pending + excluded.pending,
            lifetime_earned = a.lifetime_earned + excluded.lifetime_earned
      returning a.id, a.program_id, a.ref, a.posted - a.held as available
    ), counter as (
      -- once per distinct system account of the call, so the nested call costs nothing worth inlining
      select s.program, s.counter_kind, s.counter_ref,
             ledger_system_account(s.program, s.counter_kind::text, s.counter_ref) as id
        from (select distinct k.program, k.counter_kind, k.counter_ref from k) s
    ), w as (
      select k.*, acc.id as account, counter.id as counter_account,
             -- the balance right after this credit: the final one less what later credits added
             acc.available - coalesce(sum(k.posted_delta) over (partition by acc.id order by k.ord
                                      rows between 1 following and unbounded following), 0) as available
        from k
        join acc on acc.program_id = k.program and acc.ref = k.participant::text
        join counter on counter.program = k.program and counter.counter_kind = k.counter_kind
                    and counter.counter_ref = k.counter_ref
    ), tr as (
      insert into ledger_transfers (key, request_hash, program_id, participant_id, kind, account_id, counter_account_id,
                                    amount, direction, source, campaign_id, reason_key, reason_params, actor, expires_at,
                                    expiry_mode, created_at)
      select r.key, r.hash, r.program, r.participant, r.kind::ledger_transfer_kind, r.account, r.counter_account, r.amount,
             case when r.pending then 0 else 1 end, r.source::ledger_source, r.campaign,
             r.reason_key, r.reason_params, r.actor, r.expires,
             case when r.pending then r.expiry_mode::ledger_expiry_mode end, r.now
        from w r order by r.ord
      on conflict (key) do nothing
      returning id, key
    ), done as (
      select r.*, tr.id as transfer from w r join tr on tr.key = r.key
    ), entries as (
      insert into ledger_entries (transfer_id, account_id, amount)
      select d.transfer, e.account, e.amount
        from done d, lateral (values (d.account, d.amount), (d.counter_account, -d.amount)) as e(account, amount)
       where not d.pending
       order by d.ord
    ), lots as (
      insert into ledger_lots (account_id, transfer_id, amount, remaining, expires_at)
      select d.account, d.transfer, d.amount, d.amount, d.expires from done d where not d.pending order by d.ord
    )
    select array_agg(d.ord order by d.ord),
           array_agg(jsonb_build_object('status', 'ok', 'id', d.transfer, 'expiresAt', d.expires,
                                        'available', d.available) order by d.ord),
           (select count(*) from tr)
      into v_ords, v_outcomes, v_inserted
      from done d;

    -- a key that exists already, or twice here (the second insert did nothing): a replay
    if v_inserted < v_n then
      raise exception 'ledger: a replay among bulk credits' using errcode = 'LDGRP';
    end if;
  exception when sqlstate 'LDGRP' then
    v_ords := '{}';
    v_outcomes := '{}';
    for v_ord in select distinct o from unnest(p_ords) as o where o between 1 and cardinality(p_kind) order by o loop
      v_ords := array_append(v_ords, v_ord);
      v_outcomes := array_append(v_outcomes, ledger_credit(
        p_kind[v_ord], p_program[v_ord], p_participant[v_ord], p_amount[v_ord], p_key[v_ord], p_hash[v_ord],
        p_source[v_ord], p_campaign[v_ord], p_reason_key[v_ord], p_reason_params[v_ord], p_expiry_mode[v_ord],
        p_expires_at[v_ord], p_actor[v_ord], p_now[v_ord]));
    end loop;
  end;

  return query select * from unnest(v_ords, v_outcomes);
end $$;

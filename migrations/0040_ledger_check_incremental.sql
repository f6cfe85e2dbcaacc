-- Reconciliation that scales with what changed, not with the whole ledger (issue 24).
--
-- ledger_check() reads every transfer, entry, lot and allocation on each call: at ten million
-- entries that is minutes of full scans on the primary. The incremental check keeps, per account,
-- the balances it last verified (ledger_check_accounts) and the transfer id up to which it did
-- (ledger_check_point); a run looks only at transfers after that point and the entries, lots and
-- allocations they wrote (all found through BRIN ranges on transfer_id), checks those rows' shape
-- and references, and checks each account they touched: verified balance + what changed since
-- must equal the cached balance, and its open lots must hold exactly its available points.
-- Untouched accounts and old rows were verified before; rows changed behind the ledger's back (the
-- append-only triggers make that a deliberate act) are the full check's to find.
--
-- Transfer ids come from an identity, taken at insert and committed in any order: a transaction
-- can still hold an id below the highest one visible. So the point advances one run late, to the
-- highest id seen by a run at least `margin` ago (a transaction open longer than that is the one
-- case it can miss, and then the account's next check reports drift rather than passing quietly).
-- The runs execute inside one REPEATABLE READ transaction (src/db/ledger/check-repo.ts), so
-- every statement sees the same snapshot of cached balances and rows.
--
-- The full check in bounded memory (ledger_check_full_* below) builds the same per-account
-- figures from scratch, range of transfers by range, into a table instead of memory, reporting its
-- progress, and ends with the checks over all accounts and lots; it checks every invariant
-- ledger_check() does, which stays as it is.

create table ledger_check_accounts (
  account_id bigint primary key,
  posted bigint not null,
  held bigint not null,
  pending bigint not null,
  -- points of the account's lots, and what was allocated from them (their difference is what the
  -- lots hold)
  lot_amount bigint not null,
  allocated bigint not null
);

create table ledger_check_point (
  one boolean primary key default true check (one),
  verified_id bigint not null default 0,
  candidate_id bigint not null default 0,
  candidate_at timestamptz,
  verified_at timestamptz,
  full_at timestamptz
);
insert into ledger_check_point default values;

-- The scratch table of a full check's build; emptied at its start, swapped in at its end.
create table ledger_check_build (like ledger_check_accounts including all);

-- Lots are written in transfer order, like entries: finding a range's lots costs next to nothing.
create index ledger_lots_transfer on ledger_lots using brin (transfer_id);

-- What transfers in (p_from, p_to] changed, per account.
create function ledger_check_delta(p_from bigint, p_to bigint)
returns table (account_id bigint, posted bigint, held bigint, pending bigint, lot_amount bigint, allocated bigint)
language sql stable as $$
  select x.account_id, sum(x.posted)::bigint, sum(x.held)::bigint, sum(x.pending)::bigint,
         sum(x.lot_amount)::bigint, sum(x.allocated)::bigint
    from (
      select e.account_id, e.amount as posted, 0 as held, 0 as pending, 0 as lot_amount, 0 as allocated
        from ledger_entries e where e.transfer_id > p_from and e.transfer_id <= p_to
      union all
      select t.account_id, 0,
             case when t.kind = 'hold' then t.amount when t.kind in ('post', 'void') then -p.amount else 0 end,
             case when t.kind = 'pending' then t.amount when t.kind in ('confirm', 'drop') then -p.amount else 0 end,
             0, 0
        from ledger_transfers t left join ledger_transfers p on p.id = t.pending_id
       where t.id > p_from and t.id <= p_to and t.kind in ('hold', 'post', 'void', 'pending', 'confirm', 'drop')
      union all
      select l.account_id, 0, 0, 0, l.amount, 0
        from ledger_lots l where l.transfer_id > p_from and l.transfer_id <= p_to
      union all
      select l.account_id, 0, 0, 0, 0, a.amount
        from ledger_lot_allocations a join ledger_lots l on l.id = a.lot_id
       where a.transfer_id > p_from and a.transfer_id <= p_to
    ) x
   group by x.account_id
$$;

-- The checks of single rows written by transfers in (p_from, p_to]: the rows ledger_check() would
-- report among them (unbalanced, dangling, malformed), lots changed by them included.
create function ledger_check_rows(p_from bigint, p_to bigint)
returns table (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
language sql stable as $$
  with t as (select * from ledger_transfers where id > p_from and id <= p_to),
  e as (select * from ledger_entries where transfer_id > p_from and transfer_id <= p_to),
  x as (select * from ledger_lot_allocations where transfer_id > p_from and transfer_id <= p_to),
  changed_lots as (
    select l.* from ledger_lots l where l.transfer_id > p_from and l.transfer_id <= p_to
    union
    select l.* from ledger_lots l where l.id in (select lot_id from x)
  )
  select 'unbalanced_transfer', null::bigint, e.transfer_id, 0::bigint, sum(e.amount)::bigint
    from e group by e.transfer_id having sum(e.amount) <> 0 or count(*) <> 2
  union all
  select 'unbalanced_transfer', null, t.id, 0, null
    from t where t.direction <> 0
     and not exists (select 1 from e where e.transfer_id = t.id and e.account_id = t.account_id and e.amount = t.direction * t.amount)
  union all
  select 'dangling_reference', e.account_id, e.transfer_id, null, null
    from e left join t on t.id = e.transfer_id
   where t.id is null or e.account_id not in (t.account_id, t.counter_account_id)
  union all
  select 'dangling_reference', t.account_id, t.id, null, null
    from t
   where not exists (select 1 from ledger_accounts a where a.id = t.account_id and a.kind = 'participant')
      or not exists (select 1 from ledger_accounts a where a.id = t.counter_account_id and a.kind <> 'participant')
  union all
  select 'dangling_reference', l.account_id, l.transfer_id, null, null
    from ledger_lots l
   where l.transfer_id > p_from and l.transfer_id <= p_to
     and not exists (select 1 from t where t.id = l.transfer_id and t.account_id = l.account_id)
  union all
  select 'dangling_reference', null, x.transfer_id, null, null
    from x
   where not exists (select 1 from t where t.id = x.transfer_id)
      or not exists (select 1 from ledger_lots l where l.id = x.lot_id)
  union all
  select 'malformed_transfer', t.account_id, t.id, null, null
    from t
   where t.amount <= 0
      or t.direction not in (-1, 0, 1)
      or (t.direction = 0) <> (t.kind in ('hold', 'void', 'pending', 'drop'))
      or (t.kind in ('post', 'void', 'confirm', 'drop')) <> (t.pending_id is not null)
      or (t.kind = 'reverse') <> (t.reverses is not null)
      or (t.kind in ('earn', 'pending') and t.source is null)
  union all
  select 'malformed_transfer', e.account_id, e.transfer_id, null, e.amount from e where e.amount = 0
  union all
  select 'malformed_transfer', null, x.transfer_id, null, x.amount from x where x.amount = 0
  union all
  select 'malformed_lot', l.account_id, l.transfer_id, l.amount, l.remaining
    from changed_lots l where l.amount <= 0 or l.remaining < 0 or l.remaining > l.amount or l.open <> (l.remaining > 0)
$$;

-- Accounts in ledger_check_scope against the figures expected of them (columns as in
-- ledger_check_accounts); `open_lots`: what the account's open lots hold now.
create function ledger_check_compare(p_expected regclass)
returns table (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
language plpgsql stable as $$
#variable_conflict use_column
begin
  return query execute format($q$
    with s as (
      select a.id, a.kind as akind, a.posted, a.held, a.pending, a.lifetime_earned,
             coalesce(x.posted, 0) as e_posted, coalesce(x.held, 0) as e_held, coalesce(x.pending, 0) as e_pending,
             coalesce(x.lot_amount, 0) - coalesce(x.allocated, 0) as e_lots,
             (select coalesce(sum(l.remaining), 0) from ledger_lots l where l.account_id = a.id and l.open)::bigint as open_lots
        from ledger_accounts a join %s x on x.account_id = a.id
    )
    select 'balance_drift'::text, s.id, null::bigint, s.e_posted::bigint, s.posted from s
     where s.akind = 'participant' and s.posted <> s.e_posted
    union all
    select 'held_mismatch', s.id, null, s.e_held::bigint, s.held from s where s.akind = 'participant' and s.held <> s.e_held
    union all
    select 'pending_mismatch', s.id, null, s.e_pending::bigint, s.pending from s where s.akind = 'participant' and s.pending <> s.e_pending
    union all
    select 'lots_mismatch', s.id, null, s.posted - s.held, s.open_lots from s
     where s.akind = 'participant' and s.posted - s.held <> s.open_lots
    union all
    select 'lot_allocation_mismatch', s.id, null, s.e_lots::bigint, s.open_lots from s
     where s.akind = 'participant' and s.e_lots <> s.open_lots
    union all
    select 'negative_available', s.id, null, 0::bigint, s.posted - s.held from s
     where s.posted - s.held < 0 or s.held < 0 or s.pending < 0
    union all
    select 'malformed_account', s.id, null, 0::bigint, s.posted from s
     where s.akind <> 'participant' and (s.posted <> 0 or s.held <> 0 or s.pending <> 0 or s.lifetime_earned <> 0)
  $q$, p_expected);
end $$;

-- One incremental run. Problems found: nothing is recorded and the next run looks at the same rows.
create function ledger_check_incremental(p_margin interval, p_limit integer default 200)
returns table (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
language plpgsql as $$
#variable_conflict use_column
declare
  pt ledger_check_point;
  v_max bigint;
  v_to bigint;
  v_problems integer;
begin
  select * into pt from ledger_check_point for update;
  select coalesce(max(id), 0) into v_max from ledger_transfers;
  v_to := case when p_margin <= interval '0' then v_max
               when pt.candidate_at <= now() - p_margin then least(pt.candidate_id, v_max)
               else pt.verified_id end;
  v_to := greatest(v_to, pt.verified_id);

  -- what changed since the point (all of it, as this snapshot sees it), and up to the new point
  create temp table if not exists ledger_check_seen (like ledger_check_accounts) on commit drop;
  truncate ledger_check_seen;
  insert into ledger_check_seen
  select d.account_id, coalesce(c.posted, 0) + d.posted, coalesce(c.held, 0) + d.held, coalesce(c.pending, 0) + d.pending,
         coalesce(c.lot_amount, 0) + d.lot_amount, coalesce(c.allocated, 0) + d.allocated
    from ledger_check_delta(pt.verified_id, v_max) d left join ledger_check_accounts c on c.account_id = d.account_id;

  create temp table if not exists ledger_check_found (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
    on commit drop;
  truncate ledger_check_found;
  insert into ledger_check_found
  select * from ledger_check_rows(pt.verified_id, v_max) limit p_limit;
  insert into ledger_check_found
  select * from ledger_check_compare('ledger_check_seen') limit p_limit;
  select count(*) into v_problems from ledger_check_found;

  if v_problems = 0 then
    insert into ledger_check_accounts as c (account_id, posted, held, pending, lot_amount, allocated)
    select d.account_id, d.posted, d.held, d.pending, d.lot_amount, d.allocated
      from ledger_check_delta(pt.verified_id, v_to) d
    on conflict (account_id) do update
      set posted = c.posted + excluded.posted, held = c.held + excluded.held, pending = c.pending + excluded.pending,
          lot_amount = c.lot_amount + excluded.lot_amount, allocated = c.allocated + excluded.allocated;
    -- a candidate is replaced only once it became the point: runs more often than the margin
    -- would otherwise keep renewing it, and the point would never move
    update ledger_check_point
       set verified_id = v_to, verified_at = now(),
           candidate_id = case when v_to >= pt.candidate_id then v_max else pt.candidate_id end,
           candidate_at = case when v_to >= pt.candidate_id or pt.candidate_at is null then now() else pt.candidate_at end;
  end if;
  return query select * from ledger_check_found limit p_limit;
end $$;

-- The full check, in steps the caller drives inside one REPEATABLE READ transaction: start (empty
-- the build, answer the highest transfer id), range (add what (p_from, p_to] wrote to the build and
-- answer the problems of its rows), finish (every account against the build, every lot against its
-- allocations, rows past the last transfer, the global sum; when neither it nor a range found a
-- problem, the build becomes the verified state).
create function ledger_check_full_start() returns bigint language plpgsql as $$
begin
  truncate ledger_check_build;
  return (select coalesce(max(id), 0) from ledger_transfers);
end $$;

create function ledger_check_full_range(p_from bigint, p_to bigint)
returns table (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
language plpgsql as $$
#variable_conflict use_column
begin
  insert into ledger_check_build as c (account_id, posted, held, pending, lot_amount, allocated)
  select * from ledger_check_delta(p_from, p_to)
  on conflict (account_id) do update
    set posted = c.posted + excluded.posted, held = c.held + excluded.held, pending = c.pending + excluded.pending,
        lot_amount = c.lot_amount + excluded.lot_amount, allocated = c.allocated + excluded.allocated;
  return query select * from ledger_check_rows(p_from, p_to);
end $$;

create function ledger_check_full_finish(p_max bigint, p_limit integer default 200, p_record boolean default true)
returns table (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
language plpgsql as $$
#variable_conflict use_column
declare
  v_problems integer;
begin
  -- accounts nothing was ever written for expect zeros
  insert into ledger_check_build (account_id, posted, held, pending, lot_amount, allocated)
  select a.id, 0, 0, 0, 0, 0 from ledger_accounts a
   where not exists (select 1 from ledger_check_build b where b.account_id = a.id);
  create temp table if not exists ledger_check_found (kind text, account_id bigint, transfer_id bigint, expected bigint, actual bigint)
    on commit drop;
  truncate ledger_check_found;
  insert into ledger_check_found select * from ledger_check_compare('ledger_check_build') limit p_limit;
  insert into ledger_check_found
  select 'lot_allocation_mismatch', l.account_id, l.transfer_id, l.amount - coalesce(x.s, 0), l.remaining
    from ledger_lots l
    left join (select lot_id, sum(amount)::bigint s from ledger_lot_allocations group by lot_id) x on x.lot_id = l.id
   where l.remaining <> l.amount - coalesce(x.s, 0)
   limit p_limit;
  -- rows that name a transfer past the last one (no range covered them) or an account that does not exist
  insert into ledger_check_found
  select 'dangling_reference', e.account_id, e.transfer_id, null::bigint, null::bigint from ledger_entries e where e.transfer_id > p_max or e.transfer_id < 1
  union all
  select 'dangling_reference', l.account_id, l.transfer_id, null, null from ledger_lots l where l.transfer_id > p_max or l.transfer_id < 1
  union all
  select 'dangling_reference', null, x.transfer_id, null, null from ledger_lot_allocations x where x.transfer_id > p_max or x.transfer_id < 1
  union all
  select 'dangling_reference', b.account_id, null, null, null from ledger_check_build b
   where not exists (select 1 from ledger_accounts a where a.id = b.account_id)
  limit p_limit;
  insert into ledger_check_found
  select 'global_imbalance', null, null, 0, s from (select coalesce(sum(amount), 0)::bigint s from ledger_entries) g where s <> 0;
  select count(*) into v_problems from ledger_check_found;
  if v_problems = 0 and p_record then
    truncate ledger_check_accounts;
    insert into ledger_check_accounts select * from ledger_check_build;
    truncate ledger_check_build;
    update ledger_check_point
       set verified_id = p_max, candidate_id = p_max, candidate_at = now(), verified_at = now(), full_at = now();
  end if;
  return query select * from ledger_check_found limit p_limit;
end $$;

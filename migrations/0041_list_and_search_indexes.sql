-- Indexes for the admin lists and the participant search at a million participants (issue 24;
-- figures from `npm run bench:scale` in the README).
--
-- The search matches substrings (name, store/company, phone digits), which no btree serves: at
-- 100,000 participants each search read the whole table. Name and store go through the folded
-- trigram index of 0050 (accents and case ignored); phone digits get one here, on exactly the
-- expression src/db/participants/participants-repo.ts writes.
create extension if not exists pg_trgm;
create index participants_phone_digits_trgm on participants
  using gin (regexp_replace(coalesce(phone, ''), '\D', '', 'g') gin_trgm_ops);

-- Newest first with the id as the tie-break: the keyset cursor of the participant list (an offset
-- deep in a list reads and drops every row before it).
create index participants_program_created_id on participants (program_id, created_at desc, id desc);
drop index participants_program_created;

-- Orders newest first, with and without a status filter, and their keyset cursor.
create index reward_orders_program_created on reward_orders (program_id, created_at desc, id desc);
create index reward_orders_status_created on reward_orders (program_id, status, created_at desc, id desc);
drop index reward_orders_status;

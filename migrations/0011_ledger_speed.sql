-- Throughput of the message path, second round (see shared/notes/ledger.md §2).
--
-- Foreign keys from hot insert tables to one shared parent row. Every insert checks its foreign
-- keys with `select 1 from <parent> where id = $1 for key share`: when every reply of a program
-- points at the same `programs` row and every redemption of a campaign at the same `campaigns`
-- row, 16 concurrent messages stack key-share locks on those two rows. Concurrent lockers of one
-- row turn its xmax into a multixact, so each message writes the parent row's lock bits (WAL,
-- dirty page) and allocates a new multixact (SLRU pages, more WAL, more vacuum work) only to learn
-- that a program and a campaign which cannot be deleted still exist.
--
-- The integrity these two keys guarded is enforced by the only writers instead:
-- * outbox.program_id is the program of the participant, channel identity or broadcast the
--   message belongs to (each keeps its own program foreign key); programs are never deleted.
-- * code_redemptions.campaign_id is the campaign of the code's batch, read in the same transaction
--   by the lookup that found the code (code_batches keeps its campaign foreign key, and
--   code_redemptions keeps its foreign key to codes, a row the same statement has just updated and
--   so locks without contention); campaigns are ended, never deleted.
alter table outbox drop constraint outbox_program_id_fkey;
alter table code_redemptions drop constraint code_redemptions_campaign_id_fkey;

-- How often the worker started reading a receipt. A receipt whose reading keeps failing (a code
-- that breaks storing, a photo that crashes the decoder) is set aside for a moderator after a few
-- runs instead of being re-queued by the sweeper forever.
alter table receipts add column process_attempts integer not null default 0;

-- The shortest and longest code of an imported (pre-printed) batch. Imported codes carry no check
-- symbol, so an unknown code whose check symbol is wrong is a typo only when no imported batch of
-- the program has codes of its length; otherwise it counts as a guess toward the lockout. Null on
-- batches imported before this column: any length.
alter table code_batches add column min_code_length integer, add column max_code_length integer;

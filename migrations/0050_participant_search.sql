-- Participant search ignores case and accents ("joao" finds "João", "lecka" finds "Łęcka"),
-- through a trigram index, so a substring search does not read the whole table.
create extension if not exists unaccent;
create extension if not exists pg_trgm;

-- unaccent() is only stable (its dictionary can change); an index needs an immutable function,
-- so the dictionary is named explicitly. 'ł' is not decomposable and unaccent's rules already map it.
create or replace function punkto_fold(value text) returns text
  language sql immutable parallel safe strict
  as $$ select lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;

create index participants_search_folded on participants
  using gin ((punkto_fold(coalesce(name, '') || ' ' || coalesce(store, ''))) gin_trgm_ops);

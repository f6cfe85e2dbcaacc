-- Portuguese becomes two locales, pt-PT and pt-BR (words, numbers and plural rules differ), and a
-- program names its market and currency: the market picks the Portuguese variant of a participant
-- without other hints, the region of a phone number typed without its country code, the payout
-- (Pix in Brazil, IBAN elsewhere) and the receipts expected; the currency formats every amount.

alter table programs
  add column market text not null default 'PL' check (market in ('PL', 'PT', 'BR', 'BY')),
  add column currency text not null default 'PLN' check (currency ~ '^[A-Z]{3}$');

-- Today's programs: the market follows the language they were set up in, and a Portuguese program
-- whose clock runs in Brazil is Brazilian.
update programs set market = case
    when default_locale = 'pt' and time_zone like 'America/%' then 'BR'
    when default_locale = 'pt' then 'PT'
    when default_locale = 'be' then 'BY'
    else 'PL' end;
update programs set currency = case market when 'PT' then 'EUR' when 'BR' then 'BRL' when 'BY' then 'BYN' else 'PLN' end;

alter table programs drop constraint programs_default_locale_check;
update programs set default_locale = case market when 'BR' then 'pt-BR' else 'pt-PT' end where default_locale = 'pt';
alter table programs add constraint programs_default_locale_check check (default_locale in ('pl', 'pt-PT', 'pt-BR', 'be'));

-- A participant who chose Portuguese reads the variant of their phone's country, else their program's.
alter table participants drop constraint participants_locale_check;
update participants p set locale = case
    when p.phone ~ '^\+?55' then 'pt-BR'
    when p.phone ~ '^\+?351' then 'pt-PT'
    when g.market = 'BR' then 'pt-BR'
    else 'pt-PT' end
  from programs g
 where g.id = p.program_id and p.locale = 'pt';
alter table participants add constraint participants_locale_check check (locale in ('pl', 'pt-PT', 'pt-BR', 'be'));

-- Deliveries already fanned out keep the language they were addressed in, named the new way.
alter table broadcast_deliveries drop constraint broadcast_deliveries_locale_check;
update broadcast_deliveries d set locale = case
    when coalesce(p.phone, '') ~ '^\+?55' then 'pt-BR'
    when coalesce(p.phone, '') ~ '^\+?351' then 'pt-PT'
    when g.market = 'BR' then 'pt-BR'
    else 'pt-PT' end
  from participants p join programs g on g.id = p.program_id
 where p.id = d.participant_id and d.locale = 'pt';
alter table broadcast_deliveries add constraint broadcast_deliveries_locale_check check (locale in ('pl', 'pt-PT', 'pt-BR', 'be'));

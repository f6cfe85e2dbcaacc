-- Web chat sessions issued by the server (a made-up token is no session), the participant's own
-- messages kept beside the bot's so a reload shows the whole conversation, a wake-up for long polls,
-- and a daily photo quota per participant. Uploaded photos are no longer kept in Postgres: the flow
-- that wants one stores it in the media store.

create table web_sessions (
  -- webChatId(token): a hash; the token itself is never stored
  chat_id text primary key,
  created_at timestamptz not null default now()
);
-- Chats that already talked keep working after the upgrade.
insert into web_sessions (chat_id) select distinct chat_id from web_messages on conflict do nothing;

-- The page's own id for a message the participant sent: stored once, however often it is retried.
alter table web_messages add column client_id text;
create unique index web_messages_client on web_messages (chat_id, client_id) where client_id is not null;

-- Long polls wait for this instead of asking every 300 ms.
create or replace function web_messages_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('web_messages', new.chat_id);
  return null;
end $$;
create trigger web_messages_notify after insert on web_messages for each row execute function web_messages_notify();

create table web_photo_quota (
  participant_id uuid not null references participants (id) on delete cascade,
  day date not null,
  photos int not null default 0,
  bytes bigint not null default 0,
  primary key (participant_id, day)
);

-- Bytes uploaded before this release: never read again.
delete from web_uploads;

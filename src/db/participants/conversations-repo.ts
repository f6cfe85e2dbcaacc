/**
 * A conversation's own rows: the inbox (dedupe of deliveries), the opening read of a message
 * (`dialog_open()`), and the conversation states. The dialog layer reaches them through
 * src/dialog/state-store.ts.
 */
import type { Db } from '../sql.js';
import type { ChannelIdentityRow, Participant } from '../../domain/participants/index.js';
import type { ChannelId } from '../../shared/messages.js';
import { toParticipant, toProgram, type ProgramRow, type RawParticipant, type RawProgram } from './participants-repo.js';

// ---- one message's opening read ------------------------------------------------------------------

/**
 * postgres.js runs `unsafe()` text unprepared: with parameters that is an extra round trip
 * (Parse/Describe, wait, then Bind/Execute) and a fresh plan on every call. Fixed texts on the
 * per-message path are prepared once per connection instead.
 */
const PREPARED = { prepare: true } as const;

export type OpenedConversation =
  | { accepted: false }
  | { accepted: true; program: ProgramRow | undefined; identity: ChannelIdentityRow | undefined; participant: Participant | undefined; state: Record<string, unknown> };

type OpenRow = { ord: number | null; accepted: boolean; state: string | null } & Record<string, unknown>;

export interface OpeningInput {
  channel: ChannelId;
  externalId: string;
  chatId: string;
  messageId: string;
  displayName?: string;
  localeHint?: string;
  verifiedPhone?: string;
}

/**
 * What the dialog engine needs to start its messages, in one round trip: `dialog_open()` (migration
 * 0014) accepts the inbox rows (dedupe), upserts the identities, which takes each conversation's row
 * lock (a second message of a chat waits there until the first one's transaction ends), and then
 * reads program, participant and state with a snapshot taken after the locks, so it sees what the
 * previous message of each chat committed. A duplicate writes nothing (`accepted: false`). Answers
 * in the order given; give the messages of a batch sorted by chat (one lock order everywhere).
 */
export async function openConversations(db: Db, programSlug: string, items: readonly OpeningInput[]): Promise<OpenedConversation[]> {
  const column = <K extends keyof OpeningInput>(k: K) => items.map((i) => i[k] ?? null);
  const rows = await db.unsafe<OpenRow[]>(
    'select * from dialog_open($1, $2, $3, $4, $5, $6, $7, $8)',
    [
      programSlug,
      column('channel'),
      column('externalId'),
      column('chatId'),
      column('messageId'),
      column('displayName'),
      column('localeHint'),
      column('verifiedPhone'),
    ] as never[],
    PREPARED,
  );
  const byOrd = new Map(rows.map((r) => [r.ord, r]));
  return items.map((_, i) => toOpened(byOrd.get(i + 1)));
}

/**
 * The `<prefix>_…` columns of a joined row as the row of their own table: `iProgramId` →
 * `programId` (the client has camelCased the names already). `dialog_open()` answers one fixed
 * row type, so which keys those are is worked out from its first row, not on every row (walking
 * every key of every row was 6 % of a code message's Node time).
 */
const ownKeys: Partial<Record<'i' | 'p', Array<[from: string, to: string]>>> = {};
function columnsOf<T>(row: Record<string, unknown>, prefix: 'i' | 'p'): T {
  const pairs = (ownKeys[prefix] ??= Object.keys(row)
    .filter((k) => k.length > 1 && k[0] === prefix && k[1]! >= 'A' && k[1]! <= 'Z')
    .map((k) => [k, k[1]!.toLowerCase() + k.slice(2)]));
  const own: Record<string, unknown> = {};
  for (const [from, to] of pairs) own[to] = row[from];
  return own as T;
}

function toOpened(r: OpenRow | undefined): OpenedConversation {
  if (r && !r.accepted) return { accepted: false };
  return {
    accepted: true,
    program: r && toProgram(r as unknown as RawProgram),
    identity: r && columnsOf<ChannelIdentityRow>(r, 'i'),
    participant: r?.pId ? toParticipant(columnsOf<RawParticipant>(r, 'p')) : undefined,
    state: r?.state ? (JSON.parse(r.state) as Record<string, unknown>) : {},
  };
}

// ---- conversations ----------------------------------------------------------------------------

/** Conversation states of one or more chats (one statement; nothing when the list is empty). */
/**
 * Conversation states, as JSON text the caller made (`jsonText`), and not async: it may be a
 * pipelined transaction's final statement (src/db/pipelined-transaction.ts).
 */
export function saveStates(db: Db, states: ReadonlyArray<{ identityId: string; stateJson: string }>): Promise<void> {
  if (states.length === 0) return Promise.resolve();
  return db
    .unsafe(
      `insert into conversations (identity_id, state, updated_at)
       select s.identity_id, s.state::jsonb, now() from unnest($1::uuid[], $2::text[]) as s(identity_id, state)
       on conflict (identity_id) do update set state = excluded.state, updated_at = now()`,
      [states.map((s) => s.identityId), states.map((s) => s.stateJson)],
      PREPARED,
    )
    .then(() => undefined);
}

// ---- inbox ------------------------------------------------------------------------------------

/** True when this (channel, message id) is new; false for a repeated delivery. */
export async function acceptInbox(db: Db, channel: ChannelId, messageId: string): Promise<boolean> {
  const rows = await db`insert into inbox (channel, message_id) values (${channel}, ${messageId}) on conflict do nothing returning 1`;
  return rows.length === 1;
}

/** The conversations (states) of the given chat identities. */
export async function deleteConversations(db: Db, identityIds: readonly string[]): Promise<void> {
  if (identityIds.length) await db`delete from conversations where identity_id = any(${identityIds as string[]})`;
}

/** Forgets inbox rows older than `days`: platforms re-deliver within minutes to hours. */
export async function pruneInbox(db: Db, days: number): Promise<void> {
  await db`delete from inbox where received_at < now() - make_interval(days => ${days})`;
}

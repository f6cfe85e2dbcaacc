/**
 * Seeds registered participants with one Telegram chat each, for the broadcast tests and the
 * benchmark: `n` participants in one statement, chat ids `base + i`, languages pl/pt-PT/be in turn.
 */
import type { Sql } from '../../src/db/sql.js';

export interface Seeded {
  programId: string;
  /** chat id → participant id and language */
  chats: Map<string, { participantId: string; locale: 'pl' | 'pt-PT' | 'be' }>;
}

export async function seedTelegramParticipants(
  sql: Sql,
  n: number,
  options: { base?: number; role?: string; keepMap?: boolean } = {},
): Promise<Seeded> {
  const base = options.base ?? 100_000;
  const [program] = await sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  const programId = program!.id;
  const rows = await sql<{ participantId: string; chatId: string; locale: 'pl' | 'pt-PT' | 'be' }[]>`
    with p as (
      insert into participants (program_id, status, role, locale, name, registered_at, consent_version, consent_at)
      select ${programId}, 'active', ${options.role ?? 'consumer'}, (array['pl', 'pt-PT', 'be'])[1 + i % 3], 'P' || i, now(), '1', now()
        from generate_series(1, ${n}::int) i
      returning id, name, locale
    ), ci as (
      insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
      select ${programId}, 'telegram', (${base}::bigint + substring(name from 2)::int)::text,
             (${base}::bigint + substring(name from 2)::int)::text, id
        from p
      returning participant_id, chat_id
    )
    select ci.participant_id, ci.chat_id, p.locale from ci join p on p.id = ci.participant_id`;
  const chats = new Map<string, { participantId: string; locale: 'pl' | 'pt-PT' | 'be' }>();
  if (options.keepMap !== false) for (const r of rows) chats.set(r.chatId, { participantId: r.participantId, locale: r.locale });
  return { programId, chats };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A real engine (and optionally a real sender) on a fresh test database, for the dialog, outbox and
 * web chat tests. No mocks: Postgres and Redis are the machine's.
 */
import { createTestDatabase, type TestDatabase } from './db.js';
import { testLogger } from './logger.js';
import { buildTestEngine, testI18n } from './engine.js';
import type { Locale } from '../../src/i18n/index.js';
import type { DialogEngine } from '../../src/dialog/engine.js';
import type { FlowModule } from '../../src/dialog/flow.js';
import { testQueuePrefix, clearPrefix, TEST_REDIS_URL } from './redis.js';
import { Redis } from 'ioredis';
import { createChannelRegistry, type ChannelAdapter } from '../../src/channels/channel.js';
import { createOutboxSender, type ChannelRates, type OutboxSender } from '../../src/jobs/outbox/sender.js';
import { createOutboxPoke } from '../../src/jobs/outbox/poke.js';
import type { ChannelIdentity, Inbound, InboundBody, Outbound } from '../../src/dialog/types.js';
import type { Sql } from '../../src/db/sql.js';
import { createSql } from '../../src/db/sql.js';

export const i18n = testI18n;
export const logger = testLogger();

/** The engine as a process without its own sender (ROLE=web) wires it: a NOTIFY after commit reaches the sender a test starts. */
export function buildEngine(sql: Sql, modules: FlowModule[] = [], defaultLocale: Locale = 'pl', options: { mediaTimeoutMs?: number } = {}) {
  return buildTestEngine(sql, { modules, defaultLocale, logger, onCommitted: createOutboxPoke({ sql }), ...options });
}

let seq = 0;
/** An inbound message from a person on a channel; message ids are unique unless given. */
export function inbound(from: Partial<ChannelIdentity> & { externalId: string }, body: InboundBody, messageId?: string): Inbound {
  return {
    ...body,
    messageId: messageId ?? `m${Date.now()}-${++seq}`,
    from: { channel: 'telegram', ...from },
    receivedAt: new Date(),
  } as Inbound;
}

export const text = (t: string): InboundBody => ({ kind: 'text', text: t });
export const choice = (value: string): InboundBody => ({ kind: 'choice', value });
export const command = (c: string, payload?: string): InboundBody => ({ kind: 'command', command: c, ...(payload ? { payload } : {}) });

/** Replies queued for a chat, oldest first (whether sent or not). */
export async function outboxOf(sql: Sql, chatId: string, channel = 'telegram'): Promise<Outbound[]> {
  const rows = await sql<{ message: string }[]>`
    select message::text as message from outbox where channel = ${channel} and chat_id = ${chatId} order by id`;
  return rows.map((r) => JSON.parse(r.message) as Outbound);
}

/** Drives one chat through the engine and returns the replies each message produced. */
export function chat(engine: DialogEngine, sql: Sql, from: Partial<ChannelIdentity> & { externalId: string }) {
  const chatId = from.chatId ?? from.externalId;
  const channel = from.channel ?? 'telegram';
  return {
    async send(body: InboundBody): Promise<Outbound[]> {
      const before = (await outboxOf(sql, chatId, channel)).length;
      await engine.receive(inbound(from, body));
      return (await outboxOf(sql, chatId, channel)).slice(before);
    },
  };
}

/** A channel that records what it was asked to send and can be told what to answer. */
export function recordingChannel(id: ChannelAdapter['id']) {
  const sent: Array<{ chatId: string; message: Outbound; at: number }> = [];
  let answer: (chatId: string, message: Outbound) => Promise<import('../../src/dialog/types.js').SendResult> | import('../../src/dialog/types.js').SendResult =
    () => ({ status: 'sent' });
  const adapter: ChannelAdapter = {
    id,
    async send(to, message) {
      const result = await answer(to.chatId, message);
      if (result.status === 'sent') sent.push({ chatId: to.chatId, message, at: Date.now() });
      return result;
    },
  };
  return {
    adapter,
    sent,
    answerWith(fn: typeof answer) {
      answer = fn;
    },
  };
}

export async function startSender(sql: Sql, adapters: ChannelAdapter[], prefix: string, rates?: ChannelRates, extra: { staleClaimMs?: number; backoffMs?: number; maxAttempts?: number } = {}): Promise<OutboxSender> {
  return createOutboxSender({
    sql,
    connection: () => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
    prefix,
    channels: createChannelRegistry(adapters),
    rates: rates ?? { telegram: {}, web: {}, whatsapp: {} },
    logger,
    sweepIntervalMs: 300,
    ...extra,
  });
}

export async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { createTestDatabase, type TestDatabase, testQueuePrefix, clearPrefix, createSql };

/**
 * `count` registered Polish consumers of the default program, each with a web chat
 * `${prefix}-${n}` (n from 1); `phonePrefix` (digits) keeps their verified phones apart from
 * other seeds in the same database.
 */
export async function seedWebChatters(sql: Sql, prefix: string, count: number, phonePrefix: string) {
  const [program] = await sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  const people = await sql<{ id: string; n: number }[]>`
    insert into participants (program_id, role, locale, name, phone, phone_verified, consent_version, consent_at, registered_at)
    select ${program!.id}, 'consumer', 'pl', 'P' || n, '+48' || ${phonePrefix} || lpad(n::text, 7, '0'), true, '1', now(), now()
    from generate_series(1, ${count}::int) n returning id, substring(name from 2)::int as n`;
  await sql`
    insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
    select ${program!.id}, 'web', ${prefix} || '-' || p.n, ${prefix} || '-' || p.n, p.id
    from jsonb_to_recordset(${sql.json(people as never)}) as p(id uuid, n int)`;
  return { programId: program!.id, people };
}

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildEngine, chat, choice, clearPrefix, command, createTestDatabase, recordingChannel, startSender, testQueuePrefix, text, until,
  type TestDatabase,
} from '../../helpers/dialog-harness.js';
import * as outboxRepo from '../../../src/db/outbox/repo.js';
import type { OutboxSender } from '../../../src/jobs/outbox/sender.js';
import type { ChannelId } from '../../../src/dialog/types.js';

let db: TestDatabase;
let programId: string;
const prefixes: string[] = [];
const senders: OutboxSender[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  programId = (await db.sql<{ id: string }[]>`select id from programs where slug = 'default'`)[0]!.id;
});
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(prefixes.map((p) => clearPrefix(p)));
  await db?.drop();
});

const prefix = () => {
  const p = testQueuePrefix();
  prefixes.push(p);
  return p;
};
async function sender(...args: Parameters<typeof startSender>) {
  const s = await startSender(...args);
  senders.push(s);
  return s;
}

let n = 0;
async function queue(channel: ChannelId, chatId: string, texts: string[], kind: 'reply' | 'notice' | 'broadcast' = 'reply') {
  for (const t of texts) {
    await outboxRepo.insert(db.sql, { programId, channel, externalId: chatId, chatId, identityId: null, participantId: null, kind, message: { text: t } });
  }
}
const uniq = (s: string) => `${s}-${++n}`;

/** Most sends inside any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('outbox sender', () => {
  it('delivers what was committed before it started (a crash/restart), in order per chat, none twice', async () => {
    const chats = [uniq('c'), uniq('c'), uniq('c')];
    for (const c of chats) await queue('telegram', c, ['1', '2', '3', '4']);
    // A row claimed by a process that died mid-send.
    await queue('telegram', chats[0]!, ['5']);
    await db.sql`update outbox set status = 'sending', claimed_at = now() - interval '5 minutes'
                 where chat_id = ${chats[0]!} and message->>'text' = '5'`;

    const tg = recordingChannel('telegram');
    // Two sender processes at once: still one delivery per row.
    const p = prefix();
    await sender(db.sql, [tg.adapter], p, undefined, { staleClaimMs: 1000 });
    await sender(db.sql, [tg.adapter], p, undefined, { staleClaimMs: 1000 });
    await until(() => tg.sent.length >= 13, 15_000, '13 sends');
    await new Promise((r) => setTimeout(r, 1000));
    expect(tg.sent).toHaveLength(13);
    for (const c of chats) {
      const texts = tg.sent.filter((s) => s.chatId === c).map((s) => s.message.text);
      expect(texts).toEqual(c === chats[0] ? ['1', '2', '3', '4', '5'] : ['1', '2', '3', '4']);
    }
    const [{ pending }] = (await db.sql<{ pending: number }[]>`
      select count(*)::int as pending from outbox where chat_id = any(${chats}) and status <> 'sent'`) as unknown as [{ pending: number }];
    expect(pending).toBe(0);
  });

  it('re-enqueues from Postgres when Redis lost its jobs', async () => {
    const tg = recordingChannel('telegram');
    const p = prefix();
    await sender(db.sql, [tg.adapter], p);
    const c = uniq('flush');
    await queue('telegram', c, ['later']);
    // Scheduled for later, then Redis is wiped: only Postgres still knows about it.
    await db.sql`update outbox set not_before = now() + interval '1 second', generation = generation + 1 where chat_id = ${c}`;
    await clearPrefix(p);
    await until(() => tg.sent.some((s) => s.chatId === c), 15_000, 'the row after the flush');
    expect(tg.sent.filter((s) => s.chatId === c)).toHaveLength(1);
  });

  it('keeps the channel rate and the per-chat rate', async () => {
    const tg = recordingChannel('telegram');
    await sender(db.sql, [tg.adapter], prefix(), { telegram: { perSecond: 5, perChatPerSecond: 2, burst: 2, concurrency: 4 } });
    const many = Array.from({ length: 15 }, () => uniq('rate'));
    for (const c of many) await queue('telegram', c, ['hi']);
    const one = uniq('one');
    await queue('telegram', one, ['a', 'b', 'c', 'd', 'e', 'f']);
    await until(() => tg.sent.length >= 21, 30_000, '21 sends');
    expect(maxInWindow(tg.sent.map((s) => s.at), 1000)).toBeLessThanOrEqual(5 + 1);
    const oneTimes = tg.sent.filter((s) => s.chatId === one).map((s) => s.at);
    expect(tg.sent.filter((s) => s.chatId === one).map((s) => s.message.text)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    // At most `burst` (2) messages to one chat in any second.
    expect(maxInWindow(oneTimes, 1000)).toBeLessThanOrEqual(2);
  });

  it('sends replies and notices ahead of broadcast traffic', async () => {
    const tg = recordingChannel('telegram');
    const bulk = Array.from({ length: 12 }, () => uniq('bulk'));
    for (const c of bulk) await queue('telegram', c, ['news'], 'broadcast');
    await sender(db.sql, [tg.adapter], prefix(), { telegram: { perSecond: 3, concurrency: 1 } });
    const asker = uniq('asker');
    await until(() => tg.sent.length >= 1, 10_000, 'first broadcast');
    await queue('telegram', asker, ['your answer'], 'reply');
    await until(() => tg.sent.some((s) => s.chatId === asker), 15_000, 'the reply');
    const position = tg.sent.findIndex((s) => s.chatId === asker);
    expect(position).toBeLessThan(6);
    await until(() => tg.sent.length >= 13, 15_000, 'all');
  });

  it('honours rate_limited without counting an attempt', async () => {
    const tg = recordingChannel('telegram');
    let limited = 0;
    tg.answerWith(() => (limited++ === 0 ? { status: 'rate_limited', retryAfterMs: 700 } : { status: 'sent' }));
    await sender(db.sql, [tg.adapter], prefix());
    const c = uniq('429');
    await queue('telegram', c, ['once']);
    await until(() => tg.sent.length === 1, 10_000, 'the send after 429');
    await new Promise((r) => setTimeout(r, 700));
    expect(tg.sent).toHaveLength(1);
    const [row] = await db.sql<{ attempts: number; status: string }[]>`select attempts, status from outbox where chat_id = ${c}`;
    expect(row).toEqual({ attempts: 0, status: 'sent' });
  });

  it('retries failures with backoff, then gives up and moves on to the next message', async () => {
    const tg = recordingChannel('telegram');
    const calls: string[] = [];
    tg.answerWith((_chat, m) => {
      calls.push(m.text);
      if (m.text === 'flaky' && calls.filter((t) => t === 'flaky').length < 3) return { status: 'failed', reason: 'timeout', retryable: true };
      if (m.text === 'broken') return { status: 'failed', reason: 'bad request', retryable: false };
      return { status: 'sent' };
    });
    await sender(db.sql, [tg.adapter], prefix(), undefined, { backoffMs: 50 });
    const c = uniq('retry');
    await queue('telegram', c, ['flaky', 'broken', 'after']);
    await until(() => tg.sent.some((s) => s.message.text === 'after'), 10_000, 'the message after the broken one');
    expect(tg.sent.map((s) => s.message.text)).toEqual(['flaky', 'after']);
    // The adapter has answered; the row is marked right after, so wait for the mark, not the call.
    const rows = await until(async () => {
      const r = await db.sql<{ status: string; attempts: number }[]>`select status, attempts from outbox where chat_id = ${c} order by id`;
      return r.at(-1)?.status === 'sent' ? r : undefined;
    }, 10_000, 'the last row marked sent');
    expect(rows.map((r) => ({ status: r.status, attempts: r.attempts }))).toEqual([
      { status: 'sent', attempts: 2 },
      { status: 'failed', attempts: 1 },
      { status: 'sent', attempts: 0 },
    ]);
  });

  it("stops sending to a chat that is 'unreachable' until the person writes again", async () => {
    const { engine, enqueueOutbound, participants } = buildEngine(db.sql);
    const who = { externalId: uniq('blocker'), localeHint: 'pl' };
    const c = chat(engine, db.sql, who);
    await c.send(command('start'));
    await c.send(choice('reg:consent_yes'));
    await c.send({ kind: 'contact', phone: '+48600300001', own: true });
    await c.send(text('Basia'));
    await c.send(choice('reg:role:consumer'));
    const p = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: who.externalId }))!;

    const tg = recordingChannel('telegram');
    let attempts = 0;
    tg.answerWith(() => {
      attempts++;
      return { status: 'unreachable', reason: 'Forbidden: bot was blocked by the user' };
    });
    await sender(db.sql, [tg.adapter], prefix());
    await until(async () => (await participants.identities(db.sql, p.id))[0]?.unreachableAt, 10_000, 'unreachable mark');
    await new Promise((r) => setTimeout(r, 500));
    expect(attempts).toBe(1);
    const statuses = await db.sql<{ status: string }[]>`select status from outbox where chat_id = ${who.externalId}`;
    expect(new Set(statuses.map((s) => s.status))).toEqual(new Set(['unreachable']));

    const notice = await enqueueOutbound(db.sql, { participantId: p.id, kind: 'notice', message: (t) => ({ text: t('bot:menu.title') }) });
    expect(notice.status).toBe('unreachable');
    await new Promise((r) => setTimeout(r, 800));
    expect(attempts).toBe(1);

    // They unblock and write: reachable again, answered.
    tg.answerWith(() => ({ status: 'sent' }));
    await c.send(command('menu'));
    await until(() => tg.sent.length >= 1, 10_000, 'reply after unblocking');
    expect((await participants.identities(db.sql, p.id))[0]!.unreachableAt).toBeNull();
  });

  it('delivers notices through enqueueOutbound in the participant’s language, once per dedupe key', async () => {
    const { engine, enqueueOutbound, participants } = buildEngine(db.sql);
    const who = { externalId: uniq('notice'), localeHint: 'be' };
    const c = chat(engine, db.sql, who);
    await c.send(command('start'));
    await c.send(choice('reg:consent_yes'));
    await c.send({ kind: 'contact', phone: '+375291000099', own: true });
    await c.send(text('Янка'));
    await c.send(choice('reg:role:consumer'));
    const p = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: who.externalId }))!;
    const tg = recordingChannel('telegram');
    await sender(db.sql, [tg.adapter], prefix());
    const first = await enqueueOutbound(db.sql, { participantId: p.id, kind: 'notice', dedupeKey: `k-${p.id}`, message: (t) => ({ text: t('bot:menu.title') }) });
    const again = await enqueueOutbound(db.sql, { participantId: p.id, kind: 'notice', dedupeKey: `k-${p.id}`, message: { text: 'x' } });
    expect(first.status).toBe('queued');
    expect(again.status).toBe('duplicate');
    await until(() => tg.sent.some((s) => s.message.text === 'Галоўнае меню. Што хочаце зрабіць?'), 10_000, 'the notice');
  });
});

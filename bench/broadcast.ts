/**
 * A broadcast to BENCH_RECIPIENTS (100,000) participants through the fake Telegram Bot API limited to
 * BENCH_LIMIT (1,000) messages/s (429 above it), while BENCH_CHATTERS (20) people chat with the bot
 * through the real path (long polling → dialog engine → outbox → sender, sharing the channel gate).
 * The fake server runs in a child process so its bookkeeping stays out of our memory and event
 * loop. Prints one JSON line:
 *   {bench, recipients, limitPerSecond, achievedPerSecond, ratio, total429, duplicates, missing,
 *    replies, replyP50Ms, replyP99Ms, peakRssMb, seconds, reference: {fakeServerPerSecond,
 *    replyP50MsWithoutBroadcast, replyP99MsWithoutBroadcast}, retried}
 * `achievedPerSecond` counts every message the fake accepted (broadcast and replies share the
 * limit) between the first and the last broadcast message; `reference.fakeServerPerSecond` is what
 * the fake answers unthrottled on this machine in the same run (it must be well above the limit for
 * the ratio to mean anything), and the reply latencies "without broadcast" come from the same
 * chatters during the seconds before the broadcast starts. Env: BENCH_RECIPIENTS, BENCH_LIMIT,
 * BENCH_CHATTERS, BENCH_BASELINE_MS, BENCH_HEADROOM (gate's share of the limit, default 0.96),
 * BENCH_DATABASE_URL (see bench/lib), REDIS_URL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 100_000);
const LIMIT = Number(process.env.BENCH_LIMIT ?? 1000);
const CHATTERS = Number(process.env.BENCH_CHATTERS ?? 20);
const BASE = 10_000_000;

type FromFake =
  | { type: 'ready'; apiRoot: string; token: string }
  | { type: 'limited' }
  | { type: 'baseline'; latencies: number[] }
  | {
      type: 'stats';
      broadcastSends: number;
      distinctChats: number;
      duplicates: number;
      total429: number;
      firstAt: number;
      lastAt: number;
      acceptedInWindow: number;
      latencies: number[];
    };

// ---- the fake Telegram server (child process) ----------------------------------------------------

async function runFake(): Promise<void> {
  const { startFakeTelegram } = await import('../test/fakes/telegram-server.js');
  const tg = await startFakeTelegram();
  const send = (m: FromFake) => process.send!(m);
  const counts = new Map<string, number>();
  let broadcastSends = 0;
  let firstAt = 0;
  let lastAt = 0;
  const acceptedAt: number[] = [];
  const awaiting = new Map<number, number>();
  const latencies: number[] = [];
  let chatting = false;

  tg.on('sent', (m: { chat_id: string; at: number }) => {
    const chat = Number(m.chat_id);
    acceptedAt.push(m.at);
    if (chat >= BASE) {
      broadcastSends++;
      counts.set(m.chat_id, (counts.get(m.chat_id) ?? 0) + 1);
      if (!firstAt) firstAt = m.at;
      lastAt = m.at;
    } else {
      const since = awaiting.get(chat);
      if (since !== undefined) {
        latencies.push(Date.now() - since);
        awaiting.delete(chat);
      }
    }
  });
  // The fake keeps every call and message; a long run would hold 100,000s of them for nothing.
  setInterval(() => {
    tg.calls.splice(0, Math.max(0, tg.calls.length - 5000));
    tg.sent.splice(0, Math.max(0, tg.sent.length - 5000));
  }, 1000).unref();

  async function chatter(id: number): Promise<void> {
    const user = tg.user(id, { firstName: `Chatter${id}`, languageCode: ['pl', 'pt', 'be'][id % 3] });
    while (chatting) {
      awaiting.set(id, Date.now());
      user.text(`hej ${Math.random().toString(36).slice(2, 6)}`);
      const deadline = Date.now() + 10_000;
      while (awaiting.has(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      if (awaiting.has(id)) {
        latencies.push(10_000); // no answer within 10 s counts as 10 s
        awaiting.delete(id);
      }
      // A person reads the answer and types the next message: 1.5–3 s (Telegram allows ~1 message
      // per second per chat anyway, and the sender paces each chat to that).
      await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
    }
  }

  process.on('message', async (m: { type: string }) => {
    if (m.type === 'limit') {
      tg.calls.length = 0;
      tg.limitRate(LIMIT, 1);
      send({ type: 'limited' });
    } else if (m.type === 'baseline') {
      // Reply latencies so far (chatting, no broadcast yet); the broadcast phase starts afresh.
      send({ type: 'baseline', latencies: latencies.splice(0) });
    } else if (m.type === 'chat') {
      chatting = true;
      for (let i = 1; i <= CHATTERS; i++) void chatter(i);
    } else if (m.type === 'stats') {
      chatting = false;
      let duplicates = 0;
      for (const c of counts.values()) if (c > 1) duplicates += c - 1;
      send({
        type: 'stats',
        broadcastSends,
        distinctChats: counts.size,
        duplicates,
        total429: total429,
        firstAt,
        lastAt,
        acceptedInWindow: acceptedAt.filter((t) => t >= firstAt && t <= lastAt).length,
        latencies,
      });
    } else if (m.type === 'exit') {
      await tg.close();
      process.exit(0);
    }
  });
  let total429 = 0;
  tg.on('call', () => {
    const last = tg.calls.at(-1);
    if (last?.status === 429) total429++;
  });
  send({ type: 'ready', apiRoot: tg.apiRoot, token: tg.token });
}

// ---- the service side -----------------------------------------------------------------------------

async function referenceRate(url: string): Promise<number> {
  let n = 0;
  const end = performance.now() + 2000;
  await Promise.all(
    Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: 1000 + w, text: 'reference' }),
        });
        await res.arrayBuffer();
        n++;
      }
    }),
  );
  return Math.round(n / 2);
}

function request<T extends FromFake['type']>(child: ChildProcess, type: T, message?: object): Promise<Extract<FromFake, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: FromFake) => {
      if (m.type === type) {
        child.off('message', on);
        resolve(m as Extract<FromFake, { type: T }>);
      }
    };
    child.on('message', on);
    if (message) child.send(message);
  });
}

async function main(): Promise<void> {
  const { createScratchDatabase, percentile } = await import('./lib/scratch-db.js');
  const { createRedisConnections } = await import('../src/jobs/redis.js');
  const { createI18n } = await import('../src/i18n/index.js');
  const { createLogger } = await import('../src/shared/logger.js');
  const { createChannelRegistry } = await import('../src/channels/channel.js');
  const { createTelegramAdapter } = await import('../src/channels/telegram/adapter.js');
  const { createTelegramBot } = await import('../src/channels/telegram/bot.js');
  const { createDialogEngine } = await import('../src/dialog/engine.js');
  const { createFlows } = await import('../src/dialog/flow.js');
  const { createOutboxSender, DEFAULT_RATES } = await import('../src/jobs/outbox/sender.js');
  const { createParticipants } = await import('../src/services/participants/index.js');
  const { createEnqueueOutbound } = await import('../src/services/outbox/index.js');
  const { createLedger } = await import('../src/services/ledger/index.js');
  const { createChannelGate } = await import('../src/jobs/rate-gate.js');
  const { startBroadcastWorker } = await import('../src/jobs/broadcasts/worker.js');
  const { createBroadcasts } = await import('../src/services/broadcasts/index.js');

  const scratch = await createScratchDatabase('bench_broadcast');
  const sql = scratch.pool(24);
  const prefix = `bench-broadcast-${process.pid}`;
  const redis = createRedisConnections(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const logger = createLogger({ level: process.env.BENCH_LOG ?? 'silent', pretty: false });
  const i18n = createI18n({ defaultLocale: 'pl' });

  const fake = fork(fileURLToPath(import.meta.url), ['--fake-server'], { execArgv: ['--import', 'tsx'] });
  const ready = await request(fake, 'ready');
  // Reference: how many sendMessage calls per second the fake answers unthrottled from this
  // process on this machine right now (32 connections, 2 s), measured before the limit is set.
  const reference = { perSecond: await referenceRate(`${ready.apiRoot}/bot${ready.token}/sendMessage`) };
  await request(fake, 'limited', { type: 'limit' });

  // Recipients: registered participants with one Telegram chat each, written by the database itself.
  const [program] = await sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  await sql`
    with p as (
      insert into participants (program_id, status, role, locale, name, registered_at, consent_version, consent_at)
      select ${program!.id}, 'active', 'consumer', (array['pl', 'pt', 'be'])[1 + i % 3], 'B' || i, now(), '1', now()
        from generate_series(1, ${RECIPIENTS}::int) i
      returning id, name
    )
    insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
    select ${program!.id}, 'telegram', (${BASE}::bigint + substring(name from 2)::int)::text,
           (${BASE}::bigint + substring(name from 2)::int)::text, id from p`;
  // The chatters are registered participants too (not in the broadcast's audience: it goes to
  // consumers, they are installers), so each message gets one answer: a hint and the menu.
  await sql`
    with p as (
      insert into participants (program_id, status, role, store, locale, name, registered_at, consent_version, consent_at)
      select ${program!.id}, 'active', 'installer', 'Bench store', (array['pl', 'pt', 'be'])[1 + i % 3], 'C' || i, now(), '1', now()
        from generate_series(1, ${CHATTERS}::int) i
      returning id, name
    )
    insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
    select ${program!.id}, 'telegram', substring(name from 2), substring(name from 2), id from p`;
  await sql`analyze`;

  const gate = createChannelGate({
    redis: redis.client,
    prefix,
    rates: { telegram: { perSecond: LIMIT } },
    ...(process.env.BENCH_HEADROOM ? { headroom: Number(process.env.BENCH_HEADROOM) } : {}),
  });
  const adapter = createTelegramAdapter({ token: ready.token, apiRoot: ready.apiRoot, logger });
  const channels = createChannelRegistry([adapter]);
  const participants = createParticipants({ sql, defaultLocale: 'pl' });
  const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' });
  const sender = await createOutboxSender({ sql, connection: redis.bullmq, prefix, channels, rates: DEFAULT_RATES(LIMIT), logger, gate });
  const engine = createDialogEngine({
    sql,
    i18n,
    participants,
    enqueueOutbound,
    flows: createFlows([]),
    balances: createLedger({ sql, logger }),
    logger,
    defaultLocale: 'pl',
    onCommitted: (chats) => {
      for (const chat of chats) void sender.poke(chat).catch(() => undefined);
    },
  });
  const bot = createTelegramBot({
    token: ready.token,
    apiRoot: ready.apiRoot,
    defaultLocale: 'pl',
    i18n,
    logger,
    receive: (inbound) => engine.receive(inbound),
    polling: { timeoutSeconds: 1, concurrency: CHATTERS },
  });
  await bot.start();
  const worker = await startBroadcastWorker({ sql, connection: redis.bullmq, prefix, channels, gate, i18n, logger, automaticEnabled: false, tickEveryMs: 1000 });
  const broadcasts = createBroadcasts({ sql, enqueueOutbound, defaultLocale: 'pl', kick: (id) => worker.kick(id) });

  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);

  fake.send({ type: 'chat' });
  // Reference for the reply latency: the same chatters for a while with no broadcast running.
  await new Promise((r) => setTimeout(r, Number(process.env.BENCH_BASELINE_MS ?? 8000)));
  const baseline = [...(await request(fake, 'baseline', { type: 'baseline' })).latencies].sort((x, y) => x - y);
  const started = performance.now();
  const b = await broadcasts.create(sql, {
    message: { pl: 'Nowa kampania rusza!', pt: 'A nova campanha começou!', be: 'Новая кампанія стартуе!' },
    audience: { roles: ['consumer'] },
  });
  await broadcasts.kick(b.id);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const v = await broadcasts.get(sql, b.id);
    if (v?.status === 'done') break;
  }
  const seconds = (performance.now() - started) / 1000;
  const retried = await sql<{ lastError: string | null; n: number }[]>`
    select last_error, count(*)::int as n from broadcast_deliveries where broadcast_id = ${b.id} and last_error is not null group by 1`;
  const stats = await request(fake, 'stats', { type: 'stats' });
  clearInterval(sampler);

  const windowS = (stats.lastAt - stats.firstAt) / 1000;
  const achieved = stats.acceptedInWindow / windowS;
  const latencies = [...stats.latencies].sort((x, y) => x - y);
  const result = {
    bench: 'broadcast',
    recipients: RECIPIENTS,
    limitPerSecond: LIMIT,
    achievedPerSecond: Math.round(achieved),
    broadcastPerSecond: Math.round(stats.broadcastSends / windowS),
    ratio: Number((achieved / LIMIT).toFixed(3)),
    total429: stats.total429,
    duplicates: stats.duplicates,
    missing: RECIPIENTS - stats.distinctChats,
    chatters: CHATTERS,
    replies: latencies.length,
    replyP50Ms: Math.round(percentile(latencies, 50)),
    replyP99Ms: Math.round(percentile(latencies, 99)),
    peakRssMb: Math.round(peakRss / 2 ** 20),
    seconds: Number(seconds.toFixed(1)),
    reference: {
      fakeServerPerSecond: reference.perSecond,
      replyP50MsWithoutBroadcast: Math.round(percentile(baseline, 50)),
      replyP99MsWithoutBroadcast: Math.round(percentile(baseline, 99)),
    },
    retried: Object.fromEntries(retried.map((r) => [r.lastError, r.n])),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);

  fake.send({ type: 'exit' });
  await bot.stop();
  await worker.close();
  await sender.close();
  await redis.close();
  await scratch.drop();
}

if (process.argv.includes('--fake-server')) await runFake();
else await main();

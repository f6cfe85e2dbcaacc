/**
 * Seeds a program at a given size for bench:scale, in set-based SQL through the real schema: every
 * constraint, index and trigger stays in place, and the ledger's rows are written by its own
 * functions (ledger_credit_many for the credits, ledger_debit for spends and holds), so balances,
 * lots and entries agree exactly as ledger_check() expects.
 *
 * Per participant i (1..N), with ids derived from i (md5('p'||i)::uuid, random-looking like v4):
 * two chats (Telegram and web) with their conversations, one code redemption, five credits (10
 * ledger entries) with expiries spread over two years, a spend for one in ten and an open hold
 * (an order waiting to ship) for one in twenty; 5 codes per participant in batches of 100,000
 * (5,000,000 at a million), one receipt per two participants, 100 campaigns, one sent reply and
 * one inbox row each. The first `dueLots` participants' code lot expires two days from now (the
 * expiry sweep's workload, run with the clock moved past it); every other lot later.
 */
import type { Sql } from '../../src/db/sql.js';

export interface SeedShape {
  participants: number;
  dueLots: number;
}

const FIRST = ['Anna', 'Maria', 'Katarzyna', 'Piotr', 'Krzysztof', 'Tomasz', 'João', 'Ana', 'Francisca', 'Pedro',
  'Luís', 'Beatriz', 'Thiago', 'Larissa', 'Gabriel', 'Juliana', 'Аляксандр', 'Марына', 'Siarhei', 'Volha',
  'Zofia', 'Jakub', 'Wiktoria', 'Mateus', 'Rafael', 'Camila', 'Ірына', 'Dzmitry', 'Agnieszka', 'Michał'];
const LAST = ['Nowak', 'Kowalska', 'Wiśniewski', 'Wójcik', 'Kamińska', 'Lewandowski', 'Zielińska', 'Szymański',
  'Silva', 'Santos', 'Ferreira', 'Pereira', 'Oliveira', 'Costa', 'Rodrigues', 'Martins', 'Sousa', 'Almeida',
  'Carvalho', 'Gomes', 'Ribeiro', 'Lopes', 'Барысевіч', 'Kavalenka', 'Novik', 'Marozau', 'Шапавал', 'Bondar',
  'Dąbrowska', 'Mazur', 'Krawczyk', 'Piotrowski', 'Grabowska', 'Pawłowski', 'Michalska', 'Król', 'Araújo',
  'Barbosa', 'Rocha', 'Dias'];

const arr = (xs: string[]) => `array[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',')}]`;
/** The name of participant `i` (SQL expression): about a million distinct, so a name search finds a few. */
export const NAME_SQL = (i: string) =>
  `(${arr(FIRST)})[1 + ${i} % ${FIRST.length}] || ' ' || (${arr(LAST)})[1 + (${i} / ${FIRST.length}) % ${LAST.length}]
   || '-' || (${arr(LAST)})[1 + (${i} / ${FIRST.length * LAST.length}) % ${LAST.length}] || ' ' || (${i} / 48000)`;
export const nameOf = (i: number) =>
  `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}-${LAST[Math.floor(i / (FIRST.length * LAST.length)) % LAST.length]} ${Math.floor(i / 48000)}`;
export const participantId = (i: string) => `md5('p' || ${i})::uuid`;
/** Stores hold 50 participants each, at every size. */
export const storeOf = (i: number) => `Sklep ${Math.floor(i / 50)} Centrum`;
export const phoneOf = (i: number) => (i % 3 === 1 ? `+55119${String(i).padStart(8, '0')}` : `+48${String(500_000_000 + i)}`);

const CHUNK = 4000;

export async function seedProgram(sql: Sql, shape: SeedShape, log: (step: string, ms: number) => void): Promise<void> {
  const N = shape.participants;
  const step = async (name: string, q: string) => {
    const t0 = performance.now();
    await sql.unsafe(q);
    log(name, performance.now() - t0);
  };
  const [program] = await sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  const prog = `'${program!.id}'::uuid`;

  await step('campaigns', `
    insert into campaigns (id, program_id, name, names, status, starts_at, ends_at)
    select md5('c' || k)::uuid, ${prog}, 'Kampania ' || k, jsonb_build_object('pl', 'Kampania ' || k, 'pt', 'Campanha ' || k),
           'active', now() - interval '400 days', now() + interval '400 days'
      from generate_series(1, 100) k`);
  await step('participants', `
    insert into participants (id, program_id, status, role, locale, name, phone, phone_verified, store, consent_version,
                              consent_at, registered_at, created_at, updated_at)
    select ${participantId('i')}, ${prog}, 'active', case when i % 4 = 0 then 'retail_staff' else 'consumer' end,
           (array['pl','pt-BR','be'])[1 + i % 3], ${NAME_SQL('i')},
           case when i % 3 = 1 then '+55119' || lpad(i::text, 8, '0') else '+48' || (500000000 + i) end, true,
           'Sklep ' || (i / 50) || ' Centrum', '1', t, t, t, t
      from generate_series(1, ${N}) i, lateral (select now() - interval '730 days' * (1 - i::float8 / ${N}) as t) x`);
  await step('chats', `
    with ids as (
      insert into channel_identities (program_id, channel, external_id, chat_id, participant_id, locale_hint, created_at, last_seen_at)
      select ${prog}, c.channel, c.ext, c.ext, ${participantId('i')}, 'pl', now() - interval '1 day', now() - (i % 1000) * interval '1 minute'
        from generate_series(1, ${N}) i,
             lateral (values ('telegram', (100000000 + i)::text), ('web', 'w' || i)) as c(channel, ext)
      returning id
    )
    insert into conversations (identity_id, state) select id, '{}'::jsonb from ids`);
  await step('inbox+outbox', `
    with o as (
      insert into inbox (channel, message_id, received_at)
      select 'telegram', 'seed' || i, now() - interval '1 day' from generate_series(1, ${N}) i
    )
    insert into outbox (program_id, channel, external_id, chat_id, participant_id, kind, message, status, sent_at, created_at)
    select ${prog}, 'telegram', (100000000 + i)::text, (100000000 + i)::text, ${participantId('i')}, 'reply',
           '{"text":"Dziękujemy! +10 pkt"}'::jsonb, 'sent', now() - interval '1 day', now() - interval '1 day'
      from generate_series(1, ${N}) i`);

  const codes = 5 * N;
  const batches = Math.ceil(codes / 100_000);
  await step('code batches', `
    insert into code_batches (id, program_id, campaign_id, source, points, length, code_count, created_by)
    select md5('b' || b)::uuid, ${prog}, md5('c' || (1 + b % 100))::uuid, 'generated', 10, 10,
           least(100000, ${codes} - (b - 1) * 100000), 'seed'
      from generate_series(1, ${batches}) b`);
  // The first N codes are the ones redeemed (code i by participant i); codes.id starts at 1 here.
  await step('codes', `
    insert into codes (batch_id, hash, uses, max_uses, last_used_at)
    select md5('b' || (1 + (j - 1) / 100000))::uuid, sha256(('seed' || j)::bytea), (j <= ${N})::int, 1,
           case when j <= ${N} then now() - interval '2 days' end
      from generate_series(1, ${codes}) j`);
  await step('code redemptions', `
    insert into code_redemptions (code_id, participant_id, campaign_id, points, channel, redeemed_at)
    select c.id, ${participantId('c.id')}, b.campaign_id, 10, 'telegram', c.last_used_at
      from codes c join code_batches b on b.id = c.batch_id where c.id <= ${N}`);

  // Five credits each, through ledger_credit_many, 100 participants (500 credits) per call: the
  // function picks its rows with `ord = any(p_ords)`, which is quadratic in the call's size. Two
  // calls at a time, on ranges of participants that never overlap.
  const t0 = performance.now();
  let nextA = 1;
  const creditRange = (a: number, b: number) =>
    sql.unsafe(`
      with c as (
        select row_number() over (order by i, k) as ord, i, k,
               case k when 0 then 'code' when 1 then 'receipt' when 2 then 'receipt' when 3 then 'sale' else 'bonus' end as source,
               case when k = 0 and i <= ${shape.dueLots} then now() + interval '2 days'
                    else now() + interval '3 days' + ((i * 7 + k * 131) % 720) * interval '1 day' end as expires
          from generate_series(${a}, ${b}) i, generate_series(0, 4) k
      )
      select count(*) from ledger_credit_many(
        (select array_agg(ord order by ord) from c),
        (select array_agg('earn'::text order by ord) from c),
        (select array_agg(${prog} order by ord) from c),
        (select array_agg(${participantId('i')} order by ord) from c),
        (select array_agg(case when k = 0 then 10 else 5 + (i + k) % 40 end::bigint order by ord) from c),
        (select array_agg(case when k = 0 then 'code:' || i else 'seed:' || i || ':' || k end order by ord) from c),
        (select array_agg(md5('seed' || i || k) order by ord) from c),
        (select array_agg(source order by ord) from c),
        (select array_agg(md5('c' || (1 + (i + k) % 100))::uuid order by ord) from c),
        (select array_agg('codes:reason_code'::text order by ord) from c),
        (select array_agg(null::jsonb order by ord) from c),
        (select array_agg('at'::text order by ord) from c),
        (select array_agg(expires order by ord) from c),
        (select array_agg(null::text order by ord) from c),
        (select array_agg(now() - interval '1 day' order by ord) from c))`);
  await Promise.all([0, 1].map(async () => {
    while (nextA <= N) {
      const a = nextA;
      nextA += 100;
      await creditRange(a, Math.min(N, a + 99));
    }
  }));
  log('ledger credits', performance.now() - t0);

  await step('reward', `
    insert into rewards (id, program_id, type, names, cost) values (md5('r1')::uuid, ${prog}, 'physical', '{"pl":"Kubek"}', 20)`);
  // Orders: one in ten delivered (a spend), one in twenty waiting to ship (an open hold).
  const t1 = performance.now();
  for (let a = 1; a <= N; a += CHUNK * 5) {
    const b = Math.min(N, a + CHUNK * 5 - 1);
    await sql.unsafe(`
      with o as (
        insert into reward_orders (id, program_id, reward_id, participant_id, request_key, type, status, points, created_at, updated_at)
        select md5('o' || i)::uuid, ${prog}, md5('r1')::uuid, ${participantId('i')}, 'seed' || i, 'physical',
               case when i % 10 = 3 then 'delivered' else 'ordered' end, 20, t, t
          from generate_series(${a}, ${b}) i, lateral (select now() - interval '700 days' * (1 - i::float8 / ${N}) as t) x
         where i % 10 = 3 or i % 20 = 7
        returning id, participant_id, status
      )
      select count(*) from o, lateral ledger_debit(case when o.status = 'delivered' then 'spend' else 'hold' end, ${prog},
             o.participant_id, 20, 'order:' || o.id || case when o.status = 'delivered' then ':spend' else ':hold' end,
             md5(o.id::text), null, 'rewards:reason', null, 'seed', null, now() - interval '1 day') d`);
  }
  log('orders (spends, holds)', performance.now() - t1);

  await step('receipts', `
    insert into receipts (program_id, participant_id, source_ref, status, media_key, mime_type, width, height, byte_size,
                          image_sha256, reading, points, decided_by, decided_at, created_at)
    select ${prog}, ${participantId('(1 + (i * 2) % ' + N + ')')}, 'seed:' || i, s, 'seed/' || i, 'image/jpeg', 1200, 1600, 250000,
           md5('r' || i), 'none', case when s = 'approved' then 10 end, case when s <> 'pending' then 'seed' end,
           case when s <> 'pending' then t end, t
      from generate_series(1, ${Math.floor(N / 2)}) i,
           lateral (select case when i % 10 = 0 then 'pending' when i % 10 = 1 then 'rejected' else 'approved' end as s,
                           now() - interval '700 days' * (1 - i::float8 / ${Math.floor(N / 2)}) as t) x`);
  await step('broadcasts', `
    insert into broadcasts (program_id, message, status, send_at, fanout_done, total, created_by, created_at, finished_at)
    select ${prog}, '{"pl":"Nowa kampania!"}'::jsonb, 'done', now() - k * interval '7 days', true, ${N}, 'seed',
           now() - k * interval '7 days', now() - k * interval '7 days' + interval '1 hour'
      from generate_series(1, 50) k`);
  await step('vacuum analyze', 'vacuum (analyze)');
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildEngine, chat, choice, command, createTestDatabase, createSql, inbound, outboxOf, text, type TestDatabase,
} from '../../helpers/dialog-harness.js';
import type { FlowModule } from '../../../src/dialog/flow.js';
import type { Outbound } from '../../../src/dialog/types.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const values = (m: Outbound | undefined) => (m?.choices ?? []).flat().map((c) => c.value);
const allText = (ms: Outbound[]) => ms.map((m) => m.text).join('\n');

async function register(c: ReturnType<typeof chat>, opts: { phone?: { own: boolean; phone: string }; name?: string; role?: string; store?: string } = {}) {
  await c.send(command('start'));
  await c.send(choice('reg:consent_yes'));
  await c.send({ kind: 'contact', phone: opts.phone?.phone ?? '+48600100200', own: opts.phone?.own ?? true });
  await c.send(text(opts.name ?? 'Ania'));
  const after = await c.send(choice(`reg:role:${opts.role ?? 'consumer'}`));
  if (opts.store) return c.send(text(opts.store));
  return after;
}

describe('dialog engine', () => {
  it('registers a Telegram user in Polish: consent, contact, name, role, store, then the menu', async () => {
    const { engine } = buildEngine(db.sql);
    const c = chat(engine, db.sql, { externalId: '1001', localeHint: 'pl' });

    const first = await c.send(command('start'));
    expect(allText(first)).toContain('Witaj w programie');
    expect(values(first.at(-1))).toEqual(['reg:consent_yes', 'reg:consent_no']);

    const phoneAsk = await c.send(choice('reg:consent_yes'));
    expect(phoneAsk.at(-1)?.requestPhone).toBeDefined();

    const refused = await c.send({ kind: 'contact', phone: '+48 600 999 999', own: false });
    expect(allText(refused)).toContain('To numer innej osoby');
    expect(refused.at(-1)?.requestPhone).toBeDefined();

    const nameAsk = await c.send({ kind: 'contact', phone: '48600100200', own: true });
    expect(allText(nameAsk)).toContain('Jak masz na imię');

    const roleAsk = await c.send(text('Ania'));
    expect(values(roleAsk.at(-1))).toEqual(['reg:role:consumer', 'reg:role:retail_staff', 'reg:role:sales_rep', 'reg:role:installer']);

    const storeAsk = await c.send(choice('reg:role:retail_staff'));
    expect(allText(storeAsk)).toContain('W jakim sklepie');

    const done = await c.send(text('Mega Market, Kraków'));
    expect(allText(done)).toContain('Gotowe, Ania');
    expect(values(done.at(-1))).toEqual(
      expect.arrayContaining(['menu:soon:code', 'menu:soon:receipt', 'menu:soon:sale', 'menu:balance', 'menu:soon:rewards', 'menu:help', 'menu:language']),
    );

    const [p] = await db.sql<{ name: string; phone: string; phoneVerified: boolean; role: string; store: string; registeredAt: Date; consentVersion: string }[]>`
      select p.* from participants p join channel_identities i on i.participant_id = p.id where i.external_id = '1001'`;
    expect(p).toMatchObject({ name: 'Ania', phone: '+48600100200', phoneVerified: true, role: 'retail_staff', store: 'Mega Market, Kraków', consentVersion: '1' });
    expect(p!.registeredAt).toBeInstanceOf(Date);
    const consents = await db.sql`select * from consents c join participants p on p.id = c.participant_id where p.name = 'Ania'`;
    expect(consents).toHaveLength(1);

    // A returning participant goes straight to the menu.
    const back = await c.send(command('start'));
    expect(allText(back)).toContain('Witaj ponownie, Ania');
    expect(values(back.at(-1))).toContain('menu:balance');
  });

  it('asks the language when nothing hints at it, then speaks it', async () => {
    const { engine } = buildEngine(db.sql);
    const c = chat(engine, db.sql, { externalId: '1002', localeHint: 'en' });
    const first = await c.send(command('start'));
    expect(values(first.at(-1))).toEqual(['lang:pl', 'lang:pt-PT', 'lang:pt-BR', 'lang:be']);
    const picked = await c.send(choice('lang:be'));
    expect(allText(picked)).toContain('па-беларуску');
    expect(values(picked.at(-1))).toEqual(['reg:consent_yes', 'reg:consent_no']);
    expect(allText(picked)).toContain('Вітаем у праграме');
  });

  it('respects a declined consent, stores nothing, and offers a way back', async () => {
    const { engine } = buildEngine(db.sql);
    const c = chat(engine, db.sql, { externalId: '1003', localeHint: 'pt-BR' });
    await c.send(command('start'));
    const declined = await c.send(choice('reg:consent_no'));
    expect(allText(declined)).toContain('Sem a sua aceitação');
    expect(values(declined.at(-1))).toEqual(['reg:consent_again']);
    const again = await c.send(text('olá?'));
    expect(values(again.at(-1))).toEqual(['reg:consent_again']);
    const [{ n }] = (await db.sql<{ n: number }[]>`
      select count(*)::int as n from channel_identities where external_id = '1003' and participant_id is not null`) as unknown as [{ n: number }];
    expect(n).toBe(0);
    const back = await c.send(choice('reg:consent_again'));
    expect(values(back.at(-1))).toEqual(['reg:consent_yes', 'reg:consent_no']);
    const phone = await c.send(choice('reg:consent_yes'));
    expect(phone.at(-1)?.requestPhone).toBeDefined();
  });

  it('acknowledges a duplicate delivery without doing anything', async () => {
    const { engine } = buildEngine(db.sql);
    const m = inbound({ externalId: '1004', localeHint: 'pl' }, command('start'), 'dup-1');
    expect(await engine.receive(m)).toEqual({ status: 'handled' });
    expect(await engine.receive(m)).toEqual({ status: 'duplicate' });
    await Promise.all(Array.from({ length: 10 }, () => engine.receive(m)));
    expect(await outboxOf(db.sql, '1004')).toHaveLength(2); // welcome + consent, once
  });

  it('resumes a registration after a restart (a new engine on a new pool)', async () => {
    const first = buildEngine(db.sql);
    const c1 = chat(first.engine, db.sql, { externalId: '1005', localeHint: 'pt' });
    await c1.send(command('start'));
    await c1.send(choice('reg:consent_yes'));
    await c1.send({ kind: 'contact', phone: '+351912000005', own: true });

    const sql2 = createSql(db.url, { max: 4 });
    try {
      const second = buildEngine(sql2);
      const c2 = chat(second.engine, sql2, { externalId: '1005', localeHint: 'pt' });
      const roleAsk = await c2.send(text('Joana'));
      expect(allText(roleAsk)).toContain('Qual é o seu perfil');
      const done = await c2.send(choice('reg:role:consumer'));
      expect(allText(done)).toContain('Pronto, Joana');
    } finally {
      await sql2.end();
    }
  });

  it('gives a short hint and the options again for unknown input, at every step', async () => {
    const { engine } = buildEngine(db.sql);
    const c = chat(engine, db.sql, { externalId: '1006', localeHint: 'pl' });
    await c.send(command('start'));
    const atConsent = await c.send(text('co to jest?'));
    expect(allText(atConsent)).toContain('Wybierz jedną z opcji');
    expect(values(atConsent.at(-1))).toEqual(['reg:consent_yes', 'reg:consent_no']);
    await c.send(choice('reg:consent_yes'));
    const badPhone = await c.send(text('abc'));
    expect(allText(badPhone)).toContain('nie wygląda na numer');
    await c.send({ kind: 'contact', phone: '+48600100206', own: true });
    await c.send(text('Ola'));
    await c.send(choice('reg:role:consumer'));
    const idle = await c.send(text('hej, co słychać'));
    expect(allText(idle)).toContain('Nie do końca rozumiem');
    expect(values(idle.at(-1))).toContain('menu:balance');
    const voice = await c.send({ kind: 'unsupported', what: 'voice' });
    expect(allText(voice)).toContain('Takich wiadomości');
    const help = await c.send(command('help'));
    expect(allText(help)).toContain('/mydata');
    const soon = await c.send(choice('menu:soon:code'));
    expect(allText(soon)).toContain('wkrótce');
  });

  it('/language changes the language at any point, also mid-registration', async () => {
    const { engine } = buildEngine(db.sql);
    const c = chat(engine, db.sql, { externalId: '1007', localeHint: 'pl' });
    await c.send(command('start'));
    await c.send(choice('reg:consent_yes'));
    const langs = await c.send(command('language'));
    expect(values(langs.at(-1))).toEqual(['lang:pl', 'lang:pt-PT', 'lang:pt-BR', 'lang:be']);
    const pt = await c.send(choice('lang:pt-PT'));
    expect(allText(pt)).toContain('português');
    expect(pt.at(-1)?.requestPhone?.label).toBe('📱 Partilhar o meu número');
    await c.send({ kind: 'contact', phone: '+48600100207', own: true });
    // The choice made before the participant existed is kept (not overridden by the +48 phone).
    const name = await c.send(text('Piotr'));
    expect(allText(name)).toContain('Qual é o seu perfil');
  });

  it('/mydata shows what is stored; /delete erases it after confirmation and keeps the ledger anonymous', async () => {
    const { engine, ledger, participants } = buildEngine(db.sql);
    const c = chat(engine, db.sql, { externalId: '1008', localeHint: 'pl' });
    await register(c, { name: 'Kasia', phone: { own: true, phone: '+48600100208' }, role: 'installer', store: 'Instal-Bud' });
    const p = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '1008' }))!;
    await ledger.earn(db.sql, { programId: p.programId, participantId: p.id, amount: 40, source: 'bonus', key: `t:${p.id}`, reason: { key: 'x' } });

    const data = await c.send(command('mydata'));
    const shown = allText(data);
    expect(shown).toContain('Kasia');
    expect(shown).toContain('+48600100208');
    expect(shown).toContain('Instal-Bud');
    expect(shown).toContain('Instalator');
    expect(shown).toContain('Telegram');

    const confirm = await c.send(command('delete'));
    expect(values(confirm.at(-1))).toEqual(['sys:delete_yes', 'sys:delete_no']);
    const kept = await c.send(choice('sys:delete_no'));
    expect(allText(kept)).toContain('niczego nie usuwamy');
    expect((await participants.getById(db.sql, p.id))!.name).toBe('Kasia');

    await c.send(command('delete'));
    const done = await c.send(choice('sys:delete_yes'));
    expect(allText(done)).toContain('zostały usunięte');
    const erased = (await participants.getById(db.sql, p.id))!;
    expect(erased).toMatchObject({ status: 'erased', name: null, phone: null, store: null, profile: {} });
    expect(await participants.identities(db.sql, p.id)).toEqual([]);
    expect((await ledger.balance(db.sql, p.programId, p.id)).available).toBe(40);
    expect((await ledger.check()).ok).toBe(true);

    // Writing again starts afresh: nothing of the old person is known.
    const fresh = await c.send(command('start'));
    expect(values(fresh.at(-1))).toEqual(['reg:consent_yes', 'reg:consent_no']);
  });

  it('links a second channel with the same verified phone to the same participant and balance', async () => {
    const { engine, participants, ledger } = buildEngine(db.sql);
    const tg = chat(engine, db.sql, { externalId: '1009', localeHint: 'pt' });
    await register(tg, { name: 'Rui', phone: { own: true, phone: '+351912000009' } });
    const p = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '1009' }))!;
    await ledger.earn(db.sql, { programId: p.programId, participantId: p.id, amount: 25, source: 'bonus', key: `t:${p.id}`, reason: { key: 'x' } });

    // WhatsApp vouches for the phone itself: the first message links.
    const wa = chat(engine, db.sql, { channel: 'whatsapp', externalId: '351912000009', chatId: '351912000009@c.us', verifiedPhone: '+351912000009' });
    await wa.send(text('olá'));
    const linked = await outboxOf(db.sql, '351912000009@c.us', 'whatsapp');
    expect(allText(linked)).toContain('Olá de novo, Rui');
    const viaWa = (await participants.findByIdentity(db.sql, { channel: 'whatsapp', externalId: '351912000009' }))!;
    expect(viaWa.id).toBe(p.id);

    const balance = await wa.send(choice('menu:balance'));
    expect(allText(balance)).toContain('25 pontos');
    expect((await participants.identities(db.sql, p.id)).map((i) => i.channel).sort()).toEqual(['telegram', 'whatsapp']);

    // A typed (unverified) number on the web chat never takes over someone's account.
    const web = chat(engine, db.sql, { channel: 'web', externalId: 'w1009', localeHint: 'pt' });
    await web.send(command('start'));
    await web.send(choice('reg:consent_yes'));
    // Nor is it accepted for a second account (issue 22: twenty sign-ups shared one number).
    const refused = await web.send(text('+351 912 000 009'));
    expect(allText(refused)).toContain('Este número já está associado a outra conta');
    expect(await participants.findByIdentity(db.sql, { channel: 'web', externalId: 'w1009' })).toBeUndefined();
  });

  it('tells a blocked participant politely and does nothing else', async () => {
    const { engine, participants } = buildEngine(db.sql);
    const c = chat(engine, db.sql, { externalId: '1010', localeHint: 'be' });
    await register(c, { name: 'Алесь', phone: { own: true, phone: '+375291000010' } });
    const p = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '1010' }))!;
    await participants.setStatus(db.sql, p.id, 'blocked');
    const r = await c.send(choice('menu:balance'));
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toContain('заблакаваны');
  });

  it('routes menu items, steps, interceptors and deep links to flow modules', async () => {
    const seen: string[] = [];
    const codes: FlowModule = {
      id: 'codes',
      menu: [{ slot: 'code', labelKey: 'bot:menu.code', value: 'codes:enter' }],
      onChoice: (ctx) => ({ replies: [`ask-code ${ctx.locale}`], next: { step: 'codes.enter' } }),
      steps: {
        'codes.enter': (ctx) => {
          seen.push(`step:${ctx.inbound.kind === 'text' ? ctx.inbound.text : ctx.inbound.kind}`);
          return { replies: ['credited'], next: 'menu' };
        },
      },
      intercept: (ctx) =>
        ctx.inbound.kind === 'text' && /^[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(ctx.inbound.text) ? { replies: [`intercepted ${ctx.inbound.text}`], next: 'keep' } : undefined,
      onStartPayload: (_ctx, payload) => (payload.startsWith('c_') ? { replies: [`campaign ${payload}`], next: 'menu' } : undefined),
    };
    const { engine } = buildEngine(db.sql, [codes]);
    const c = chat(engine, db.sql, { externalId: '1011', localeHint: 'pl' });
    // A deep link before registration waits for it to finish.
    await c.send(command('start', 'c_42'));
    await c.send(choice('reg:consent_yes'));
    await c.send({ kind: 'contact', phone: '+48600100211', own: true });
    await c.send(text('Zenek'));
    const done = await c.send(choice('reg:role:consumer'));
    expect(allText(done)).toContain('campaign c_42');
    expect(values(done.at(-1))).toContain('codes:enter');
    expect(values(done.at(-1))).not.toContain('menu:soon:code');

    expect(allText(await c.send(choice('codes:enter')))).toBe('ask-code pl');
    expect(allText(await c.send(text('ABCD-EFGH')))).toBe('intercepted ABCD-EFGH');
    const credited = await c.send(text('1234'));
    expect(credited[0]!.text).toBe('credited');
    expect(seen).toEqual(['step:1234']);
    expect(values(credited.at(-1))).toContain('menu:balance');
  });
});

describe('program settings and races', () => {
  it('asks the program’s profile questions (buttons, free text, skippable) and a new terms version', async () => {
    await db.sql`update programs set settings = ${db.sql.json({
      profileQuestions: [
        { id: 'age_range', text: { pl: 'Ile masz lat?', pt: 'Que idade tem?', be: 'Колькі вам гадоў?' },
          options: [{ value: '18-29', label: { pl: '18–29' } }, { value: '30+', label: { pl: '30+' } }] },
        { id: 'city', text: { pl: 'Z jakiego miasta jesteś?' }, optional: true },
      ],
    } as never)} where slug = 'default'`;
    try {
      const { engine, participants } = buildEngine(db.sql);
      const c = chat(engine, db.sql, { externalId: '3001', localeHint: 'pl' });
      const q1 = await register(c, { phone: { own: true, phone: '+48600300100' }, name: 'Ewa' });
      expect(q1.at(-1)!.text).toBe('Ile masz lat?');
      expect(values(q1.at(-1))).toEqual(['reg:pq:0', 'reg:pq:1']);
      const q2 = await c.send(choice('reg:pq:1'));
      expect(q2.at(-1)!.text).toBe('Z jakiego miasta jesteś?');
      expect(values(q2.at(-1))).toEqual(['reg:pq_skip']);
      const done = await c.send(text('Gdańsk'));
      expect(allText(done)).toContain('Gotowe, Ewa');
      const p = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '3001' }))!;
      expect(p.profile).toEqual({ age_range: '30+', city: 'Gdańsk' });

      // New terms: a registered participant accepts them before anything else.
      await db.sql`update programs set terms_version = '2' where slug = 'default'`;
      const ask = await c.send(choice('menu:balance'));
      expect(values(ask.at(-1))).toEqual(['reg:consent_yes', 'reg:consent_no']);
      expect(allText(ask)).toContain('wersja 2');
      const menu = await c.send(choice('reg:consent_yes'));
      expect(values(menu.at(-1))).toContain('menu:balance');
      expect((await participants.getById(db.sql, p.id))!.consentVersion).toBe('2');
    } finally {
      await db.sql`update programs set settings = '{}'::jsonb, terms_version = '1' where slug = 'default'`;
    }
  });

  it('one verified phone arriving on two channels at once makes one participant', async () => {
    const { engine } = buildEngine(db.sql);
    const phone = '+48600300200';
    const tgWho = { externalId: '3002', localeHint: 'pl' };
    const waWho = { channel: 'whatsapp' as const, externalId: '48600300200', chatId: '48600300200@c.us', verifiedPhone: phone };
    const tg = chat(engine, db.sql, tgWho);
    await tg.send(command('start'));
    await tg.send(choice('reg:consent_yes'));
    const wa = chat(engine, db.sql, waWho);
    await wa.send(text('cześć'));
    await Promise.all([
      engine.receive(inbound(tgWho, { kind: 'contact', phone, own: true })),
      engine.receive(inbound(waWho, choice('reg:consent_yes'))),
    ]);
    const rows = await db.sql<{ id: string }[]>`select id from participants where phone = ${phone}`;
    expect(rows).toHaveLength(1);
    const linked = await db.sql<{ participantId: string }[]>`
      select participant_id from channel_identities where external_id in ('3002', '48600300200')`;
    expect(linked.map((l) => l.participantId)).toEqual([rows[0]!.id, rows[0]!.id]);
  });
});

describe('a flow that fails', () => {
  it('leaves nothing half-done, answers a friendly error and does not fail again on re-delivery', async () => {
    const broken: FlowModule = {
      id: 'broken',
      menu: [{ labelKey: 'bot:menu.help', value: 'broken:go' }],
      async onChoice(ctx) {
        await ctx.db`insert into audit_log (actor, action) values ('test', 'half-done')`;
        throw new Error('bug in a flow');
      },
    };
    const { engine } = buildEngine(db.sql, [broken]);
    const who = { externalId: '4001', localeHint: 'pt' };
    const c = chat(engine, db.sql, who);
    await register(c, { phone: { own: true, phone: '+351912400100' } });
    const m = inbound(who, choice('broken:go'), 'broken-1');
    expect(await engine.receive(m)).toEqual({ status: 'handled' });
    expect(await engine.receive(m)).toEqual({ status: 'duplicate' });
    const replies = await outboxOf(db.sql, '4001');
    expect(replies.at(-1)!.text).toBe('Algo correu mal do nosso lado. Tente novamente daqui a pouco.');
    expect(await db.sql`select 1 from audit_log where action = 'half-done'`).toHaveLength(0);
  });
});

describe('two processes, one conversation', () => {
  it('handles the messages of one chat one at a time across two engines, none lost', async () => {
    const counter: FlowModule = {
      id: 'count',
      menu: [{ labelKey: 'bot:menu.help', value: 'count:start' }],
      onChoice: () => ({ next: { step: 'count.n', data: { n: 0 } } }),
      steps: {
        'count.n': (ctx) => {
          const n = Number(ctx.state?.data?.n ?? 0) + 1;
          return { replies: [`#${n}`], next: { step: 'count.n', data: { n } } };
        },
      },
    };
    const sqlA = createSql(db.url, { max: 8 });
    const sqlB = createSql(db.url, { max: 8 });
    try {
      const a = buildEngine(sqlA, [counter]).engine;
      const b = buildEngine(sqlB, [counter]).engine;
      const who = { externalId: '2001', localeHint: 'pl' };
      const c = chat(a, sqlA, who);
      await register(c, { phone: { own: true, phone: '+48600200001' } });
      await c.send(choice('count:start'));
      const before = (await outboxOf(sqlA, '2001')).length;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).receive(inbound(who, text(`m${i}`)))),
      );
      const replies = (await outboxOf(sqlA, '2001')).slice(before).map((m) => m.text);
      // Each message saw the state the previous one left: replies count 1..40 in outbox order.
      expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => `#${i + 1}`));
    } finally {
      await sqlA.end();
      await sqlB.end();
    }
  });
});

/**
 * "My balance" and /mydata with what other features add through the engine's hooks (target
 * progress, reward orders' delivery details, sales and receipts counts), and history lines that
 * read names in the participant's own language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestEngine } from '../../helpers/engine.js';
import { chat, choice, command, createTestDatabase, logger, text, type TestDatabase } from '../../helpers/dialog-harness.js';
import { createLedger } from '../../../src/services/ledger/index.js';
import type { BalanceSource, PersonalRecord } from '../../../src/dialog/flows/system/balance-source.js';
import type { Participant } from '../../../src/domain/participants/index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const records = new Map<string, PersonalRecord[]>();
const progressAsked: string[] = [];

function build() {
  const ledger = createLedger({ sql: db.sql, logger });
  const hooks: BalanceSource = {
    balance: (...a) => ledger.balance(...a),
    history: (...a) => ledger.history(...a),
    progress: async (_db, p: Participant, ctx) => {
      progressAsked.push(p.id);
      return p.role === 'retail_staff' ? [ctx.t('sales:progress_units', { campaign: 'Lato', done: 3, goal: 10, remaining: 7 })] : [];
    },
    personalData: [async (_db, p) => records.get(p.id) ?? []],
  };
  const { engine, participants } = buildTestEngine(db.sql, { balances: hooks, logger });
  return { engine, participants, ledger };
}

async function register(c: ReturnType<typeof chat>, phone: string, name: string, role: string, store?: string) {
  await c.send(command('start'));
  await c.send(choice('reg:consent_yes'));
  await c.send({ kind: 'contact', phone, own: true });
  await c.send(text(name));
  await c.send(choice(`reg:role:${role}`));
  if (store) await c.send(text(store));
}

describe('my balance and /mydata', () => {
  it('shows target progress to staff under the balance, and nothing extra to a consumer', async () => {
    const { engine, participants } = build();
    const staff = chat(engine, db.sql, { externalId: '2001', localeHint: 'pl' });
    await register(staff, '+48600200001', 'Ola', 'retail_staff', 'Sklep Demo, Kraków');
    const shown = (await staff.send(choice('menu:balance'))).map((m) => m.text).join('\n');
    expect(shown).toContain('Twoje cele:\n🎯 Lato');
    expect(shown).toContain('🎯 Lato: 3 z 10 szt. – brakuje 7');

    const consumer = chat(engine, db.sql, { externalId: '2002', localeHint: 'pl' });
    await register(consumer, '+48600200002', 'Jan', 'consumer');
    const plain = (await consumer.send(choice('menu:balance'))).map((m) => m.text).join('\n');
    expect(plain).toContain('Masz 0 punktów');
    expect(plain).not.toContain('Twoje cele');
    const janId = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '2002' }))!.id;
    expect(progressAsked).toContain(janId);
  });

  it('/mydata lists delivery and payout details of orders and how many sales and receipts are kept', async () => {
    const { engine, participants } = build();
    const c = chat(engine, db.sql, { externalId: '2003', localeHint: 'pt' });
    await register(c, '+351912000003', 'Rita', 'installer', 'Loja Demo, Lisboa');
    const rita = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '2003' }))!;
    const at = new Date('2026-11-02T10:00:00Z');
    records.set(rita.id, [
      {
        kind: 'orders',
        total: 7,
        items: [
          { at, reward: { pl: 'Kubek', pt: 'Caneca', be: 'Кубак' }, delivery: { method: 'address', name: 'Rita Silva', address: 'Rua Augusta 10, Lisboa' } },
          { at, reward: { pl: 'Bluza', pt: 'Camisola' }, delivery: { method: 'pickup', name: 'Rita Silva', store: 'Loja Demo' } },
          { at, reward: 'Cash', delivery: { method: 'payout', payout: 'PT50 0002 0123 1234 5678 9015 4' } },
          { at, reward: { pt: 'Vale digital' }, delivery: { method: 'none' } },
        ],
      },
      { kind: 'count', what: 'sales', n: 12 },
      { kind: 'count', what: 'receipts', n: 0 },
    ]);
    const data = (await c.send(command('mydata'))).map((m) => m.text).join('\n');
    expect(data).toContain('Encomendas de prémios:');
    expect(data).toContain('• Caneca (2 de novembro de 2026): entrega a Rita Silva, Rua Augusta 10, Lisboa');
    expect(data).toContain('• Camisola (2 de novembro de 2026): levantamento na loja Loja Demo, em nome de Rita Silva');
    expect(data).toContain('pagamento para PT50 0002 0123 1234 5678 9015 4');
    expect(data).not.toContain('Vale digital'); // nothing personal kept for it
    expect(data).toContain('(mostramos as 4 mais recentes de 7)');
    expect(data).toContain('Vendas registadas: 12');
    expect(data).not.toContain('Recibos enviados');
  });

  it('reads names in history in the participant’s language, whatever language they were booked in', async () => {
    const { engine, participants, ledger } = build();
    const c = chat(engine, db.sql, { externalId: '2004', localeHint: 'be' });
    await register(c, '+375291000004', 'Алеся', 'consumer');
    const p = (await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '2004' }))!;
    await ledger.earn(db.sql, {
      programId: p.programId,
      participantId: p.id,
      amount: 25,
      source: 'code',
      key: 'test:names:1',
      reason: { key: 'codes:reason_code', params: { name: { pl: 'Lato z kawą', pt: 'Verão com café', be: 'Лета з кавай' } } },
    });
    await ledger.earn(db.sql, {
      programId: p.programId,
      participantId: p.id,
      amount: 5,
      source: 'code',
      key: 'test:names:2',
      // Older rows: a frozen Polish name with the names beside it.
      reason: { key: 'codes:reason_code', params: { name: 'Zima', names: { pl: 'Zima', pt: 'Inverno', be: 'Зіма' } } },
    });
    const shown = (await c.send(choice('menu:balance'))).map((m) => m.text).join('\n');
    expect(shown).toContain('Код у акцыі «Лета з кавай»');
    expect(shown).toContain('Код у акцыі «Зіма»');
    expect(shown).not.toMatch(/Lato|Zima|\[object Object\]/);
  });
});

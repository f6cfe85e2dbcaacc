/**
 * Redeeming through the real grammY bot against the fake Bot API, the real engine and the outbox
 * sender: one reward type per language (physical in Polish, e-voucher in Portuguese, cash-out in
 * Belarusian), with the manager's status changes arriving as messages.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix, testQueuePrefix } from '../helpers/redis.js';
import { testLogger } from '../helpers/logger.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser, type SentMessage } from '../fakes/telegram-server.js';
import { startTelegramStack, type TelegramStack } from './telegram-stack.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import { createParticipants } from '../../src/services/participants/index.js';
import { createEnqueueOutbound } from '../../src/services/outbox/index.js';
import { createRewards, createVoucherCipher, type RewardsService } from '../../src/services/rewards/index.js';
import { createRewardsFlow } from '../../src/dialog/flows/rewards/index.js';
import { createI18n, type Locale } from '../../src/i18n/index.js';
import { participantWithPoints, physical, voucher, cashOut } from '../helpers/rewards.js';

let db: TestDatabase;
let tg: FakeTelegram;
let stack: TelegramStack;
let ledger: Ledger;
let rewards: RewardsService;
const prefix = testQueuePrefix();
const i18n = createI18n({ defaultLocale: 'pl' });

beforeAll(async () => {
  db = await createTestDatabase();
  tg = await startFakeTelegram();
  const logger = testLogger();
  ledger = createLedger({ sql: db.sql, logger });
  rewards = createRewards({ ledger,
    participants: createParticipants({ sql: db.sql, defaultLocale: 'pl' }),
    enqueueOutbound: createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' }),
    cipher: createVoucherCipher(randomBytes(32)),
    logger,
  });
  stack = await startTelegramStack({ sql: db.sql, tg, prefix, modules: [createRewardsFlow({ rewards })] });
});

afterAll(async () => {
  await stack?.stop();
  await tg?.close();
  await db?.drop();
  await clearPrefix(prefix);
});

const buttons = (m: SentMessage): string[] =>
  ((m.reply_markup?.inline_keyboard as Array<Array<{ text: string }>> | undefined) ?? []).flat().map((b) => b.text);
const data = (m: SentMessage): string[] =>
  ((m.reply_markup?.inline_keyboard as Array<Array<{ callback_data?: string }>> | undefined) ?? []).flat().map((b) => b.callback_data ?? '');

/** A registered participant with a Telegram chat, opening "Rewards" from the main menu. */
async function openRewards(id: number, locale: Locale, points: number): Promise<{ user: FakeUser; list: SentMessage }> {
  const t = i18n.t(locale);
  await participantWithPoints(db.sql, ledger, points, { externalId: String(id), locale, name: 'Tester' });
  const user = tg.user(id, { firstName: 'Tester', languageCode: locale });
  user.command('menu');
  const menu = await tg.nextMatching(id, (m) => buttons(m).includes(t('rewards:menu.rewards')));
  user.press(menu, t('rewards:menu.rewards'));
  const list = await tg.nextMatching(id, (m) => m.text.startsWith(t('rewards:list.title')));
  return { user, list };
}

describe('rewards on Telegram', () => {
  it('physical reward in Polish: order, double-tapped confirm, shipped notice', { timeout: 60_000 }, async () => {
    const t = i18n.t('pl');
    const reward = await rewards.create(db.sql, physical({ name: { pl: 'Głośnik Bluetooth' }, cost: 600, stock: 2 }), 'admin:t');
    const { user, list } = await openRewards(48_100_001, 'pl', 1000);
    expect(list.text).toContain('✅ Głośnik Bluetooth — 600 punktów');
    user.press(list, '✅ Głośnik Bluetooth');
    const details = await tg.nextMatching(user.id, (m) => m.text.startsWith('🎁 Głośnik Bluetooth'));
    user.press(details, t('rewards:button.order_physical'));
    const askName = await tg.nextMatching(user.id, (m) => m.text === t('rewards:ask.name'));
    user.press(askName, t('rewards:button.use', { value: 'Tester' }));
    const method = await tg.nextMatching(user.id, (m) => m.text === t('rewards:ask.method'));
    user.press(method, t('rewards:button.address'));
    await tg.nextMatching(user.id, (m) => m.text === t('rewards:ask.address'));
    user.text('ul. Kwiatowa 7, 80-001 Gdańsk');
    const confirm = await tg.nextMatching(user.id, (m) => m.text.startsWith(t('rewards:confirm.title')));
    expect(confirm.text).toContain('Po zamówieniu będziesz mieć: 400 punktów');

    // the same callback twice, as a double tap sends it
    user.press(confirm, t('rewards:button.confirm'));
    user.press(confirm, t('rewards:button.confirm'));
    await tg.nextMatching(user.id, (m) => m.text.startsWith('🎉 Zamówione: Głośnik Bluetooth!'));
    await tg.nextMatching(user.id, (m) => m.text === t('rewards:result.duplicate'));
    const orders = await db.sql<{ id: string }[]>`select id from reward_orders where reward_id = ${reward.id}`;
    expect(orders).toHaveLength(1);

    await rewards.fulfil(db.sql, orders[0]!.id, { to: 'shipped', tracking: 'INPOST 6200' }, 'admin:magazyn');
    const shipped = await tg.nextMatching(user.id, (m) => m.text.includes('jest już w drodze'));
    expect(shipped.text).toContain('Numer przesyłki: INPOST 6200');
  });

  it('e-voucher in Portuguese: the code arrives in the chat at once', { timeout: 60_000 }, async () => {
    const t = i18n.t('pt-PT');
    const reward = await rewards.create(db.sql, voucher({ name: { pt: 'Vale Continente 10 €' }, cost: 250 }), 'admin:t');
    await rewards.importVouchers(db.sql, reward.id, 'CONT-7Q2M-0001\n', 'admin:t');
    const { user, list } = await openRewards(35_100_002, 'pt-PT', 300);
    user.press(list, '✅ Vale Continente 10 €');
    const details = await tg.nextMatching(user.id, (m) => m.text.startsWith('🎁 Vale Continente 10 €'));
    expect(details.text).toContain(t('rewards:details.voucher'));
    user.press(details, t('rewards:button.order_e_voucher'));
    const confirm = await tg.nextMatching(user.id, (m) => m.text.startsWith(t('rewards:confirm.title')));
    expect(confirm.text).toContain('Depois da encomenda fica com: 50 pontos');
    user.press(confirm, t('rewards:button.confirm'));
    const code = await tg.nextMatching(user.id, (m) => m.text.includes('O seu código'));
    expect(code.text).toContain('CONT-7Q2M-0001');
    expect(await ledger.balance(db.sql, reward.programId, (await db.sql<{ id: string }[]>`select participant_id as id from reward_orders where reward_id = ${reward.id}`)[0]!.id)).toMatchObject({
      available: 50,
      held: 0,
    });
  });

  it('cash-out in Belarusian: amount button, payout details, approval notice', { timeout: 60_000 }, async () => {
    const t = i18n.t('be');
    const reward = await rewards.create(db.sql, 
      cashOut({ name: { be: 'Вывад на картку' }, cost: 10, cashOut: { currency: 'BYN', step: 10, min: 10, max: 30 } }),
      'admin:t',
    );
    const { user, list } = await openRewards(37_500_003, 'be', 250);
    user.press(list, '✅ Вывад на картку');
    const details = await tg.nextMatching(user.id, (m) => m.text.startsWith('🎁 Вывад на картку'));
    user.press(details, t('rewards:button.order_cash_out'));
    const amount = await tg.nextMatching(user.id, (m) => m.text.includes('Якую суму вы хочаце атрымаць?'));
    expect(data(amount)).toEqual(['rewards:amt:10', 'rewards:amt:20', 'rewards:no']);
    user.pressData('rewards:amt:20', amount);
    await tg.nextMatching(user.id, (m) => m.text === t('rewards:ask.payout'));
    user.text('4111 1111 1111 1111');
    const confirm = await tg.nextMatching(user.id, (m) => m.text.startsWith(t('rewards:confirm.title')));
    expect(confirm.text).toContain('Пасля замовы ў вас будзе: 50 балаў');
    user.press(confirm, t('rewards:button.confirm'));
    await tg.nextMatching(user.id, (m) => m.text.includes('Заяўку на выплату'));
    const [order] = await db.sql<{ id: string }[]>`select id from reward_orders where reward_id = ${reward.id}`;
    await rewards.fulfil(db.sql, order!.id, {}, 'admin:buh');
    await tg.nextMatching(user.id, (m) => /^💸 Выплата 20\sBr зацверджана/.test(m.text));
  });
});

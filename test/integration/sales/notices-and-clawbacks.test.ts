/**
 * Sales notices and clawbacks: notices show their points, clawbacks of spent points stay owed and are
 * collected later, bonuses of a rejected sale are withdrawn, bonuses respect the campaign budget,
 * store names match as words, and a deadlock in a sell-out import is retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '../../helpers/db.js';
import { openSalesTestBed } from '../../helpers/sales.js';
import { recordingNotifier } from '../../helpers/notices.js';
import { fixedClock } from '../../../src/shared/clock.js';
import type { Ledger } from '../../../src/services/ledger/index.js';
import type { CampaignsService } from '../../../src/services/campaigns/index.js';
import type { SalesService } from '../../../src/services/sales/index.js';
import { renderProgress } from '../../../src/dialog/flows/sales/render.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { Earner } from '../../../src/domain/campaigns/campaign.js';
import type { Participant } from '../../../src/domain/participants/index.js';

let db: TestDatabase;
let ledger: Ledger;
let campaigns: CampaignsService;
let sales: SalesService;
let programId: string;
const clock = fixedClock('2026-06-01T10:00:00Z');
const i18n = createI18n({ defaultLocale: 'pl' });
/** Notices as the participant would read them, per participant (Polish unless set in `locales`). */
const { notifier, notices, locales, last } = recordingNotifier(i18n);

const staff = (store: string | null = null): Earner => ({ id: randomUUID(), programId, role: 'retail_staff', store });

async function staffCampaign(extra: Record<string, unknown> = {}) {
  const c = await campaigns.create(
    {
      name: { pl: 'Kotły', pt: 'Caldeiras', be: 'Катлы' },
      startsAt: new Date('2026-05-01T00:00:00Z'),
      endsAt: new Date('2026-09-01T00:00:00Z'),
      status: 'active',
      audienceRoles: ['retail_staff'],
      productRules: [{ sku: `K-${randomUUID().slice(0, 6)}`, pointsPerUnit: 100 }],
      ...extra,
    } as never,
    'admin:test',
  );
  return { c, productId: async (p: Earner) => (await sales.offers(db.sql, p)).find((o) => o.campaignId === c.id)!.productId };
}

const log = (p: Earner, productId: string, quantity: number, invoice: string) =>
  db.sql.begin((tx) => sales.logSale(tx, { participant: p, productId, quantity, invoice }));
const available = async (p: Earner) => (await ledger.balance(db.sql, programId, p.id)).available;
const spend = (p: Earner, amount: number) =>
  ledger.spend(db.sql, { programId, participantId: p.id, amount, key: `test:spend:${randomUUID()}`, reason: { key: 'test' } });

beforeAll(async () => {
  ({ db, ledger, campaigns, sales, programId } = await openSalesTestBed({ clock, notifier, max: 20 }));
});
afterAll(async () => {
  await db?.drop();
});

describe('sales notices', () => {
  it('say how many points were approved, paid to a store colleague, or taken back', async () => {
    const { c, productId } = await staffCampaign({ requiresApproval: true });
    const store = `Sklep ${randomUUID().slice(0, 6)}`;
    await sales.createTarget(db.sql, c.id, { store, metric: 'units', goal: 3, bonusPoints: 150 }, 'admin:test');
    const [a, b] = [staff(store), staff(store)];
    locales.set(b.id, 'pt-PT');
    const pid = await productId(a);
    const sa = await log(a, pid, 2, 'N-1');
    const sb = await log(b, pid, 1, 'N-2');
    if (sa.status !== 'logged' || sb.status !== 'logged') throw new Error('not logged');
    await sales.approve(db.sql, sa.saleId, 'admin:m');
    expect(last(a)).toContain('200 punktów');
    await sales.approve(db.sql, sb.saleId, 'admin:m');
    expect(last(b)).toContain('100 pontos');
    // a's bonus came from b's approval: a reads it as a store notice
    expect(last(a)).toBe('🎉 Wasz sklep osiągnął cel sprzedażowy (3)! Twoja premia: +150 punktów.');
  });
});

describe('clawbacks', () => {
  it('take what is there, keep the rest owed, and collect it on later imports', async () => {
    const { productId } = await staffCampaign();
    const p = staff();
    const pid = await productId(p);
    expect(await log(p, pid, 3, 'CB-1')).toMatchObject({ status: 'logged', points: 300 });
    await spend(p, 250);

    const first = await sales.importSellOut(db.sql, 'invoice,status\nCB-1,rejected\n', 'admin:m');
    expect(first).toMatchObject({ rejected: 1, clawedBack: 1, clawbackShort: [{ participantId: p.id, kind: 'sale', due: 250 }] });
    expect(await available(p)).toBe(0);
    expect(last(p)).toBe(
      '⚠️ Sprzedaż z dokumentu CB-1 nie przeszła weryfikacji u dystrybutora. Odjęliśmy 50 punktów, a resztę (250 punktów) odejmiemy od kolejnych punktów, które zdobędziesz.',
    );

    await log(p, pid, 1, 'CB-2');
    // the same invoice again: the sale is decided, but what it still owes is collected
    const second = await sales.importSellOut(db.sql, 'invoice,status\nCB-1,rejected\n', 'admin:m');
    expect(second).toMatchObject({ alreadyDecided: 1, recovered: 100 });
    expect(await available(p)).toBe(0);
    expect(last(p)).toContain('odjęliśmy jeszcze 100 punktów. Resztę (150 punktów) odejmiemy od kolejnych punktów.');

    await log(p, pid, 2, 'CB-3');
    expect(await sales.importSellOut(db.sql, 'invoice,status\n', 'admin:m')).toMatchObject({ recovered: 150 });
    expect(await available(p)).toBe(50);
    expect(last(p)).toContain('Jesteśmy już rozliczeni');
    expect(await sales.importSellOut(db.sql, 'invoice,status\n', 'admin:m')).toMatchObject({ recovered: 0 });
    const [sale] = await db.sql<{ clawedBack: boolean }[]>`select clawed_back from sales where invoice = 'CB-1'`;
    expect(sale!.clawedBack).toBe(true);
    expect((await ledger.check()).ok).toBe(true);
  });

  it('a participant with nothing left is told the points stay owed, not that they were deducted', async () => {
    const { productId } = await staffCampaign();
    const p = staff();
    await log(p, await productId(p), 1, 'CB-9');
    await spend(p, 100);
    await sales.importSellOut(db.sql, 'invoice,status\nCB-9,invalid\n', 'admin:m');
    expect(last(p)).toContain('Nie masz teraz tylu punktów, więc odejmiemy je (100 punktów)');
    expect(await available(p)).toBe(0);
  });

  it('withdraw the target bonus the rejected sale completed; reaching the target again pays it again', async () => {
    const { c, productId } = await staffCampaign();
    const p = staff();
    await sales.createTarget(db.sql, c.id, { participantId: p.id, metric: 'units', goal: 3, bonusPoints: 300 }, 'admin:test');
    const pid = await productId(p);
    expect(await log(p, pid, 3, 'TB-1')).toMatchObject({ status: 'logged', bonuses: [{ points: 300 }] });
    expect(await available(p)).toBe(600);

    await sales.importSellOut(db.sql, 'invoice,status\nTB-1,rejected\n', 'admin:m');
    expect(await available(p)).toBe(0);
    expect(notices.get(p.id)!.at(-1)).toBe(
      '⚠️ Po odrzuceniu sprzedaży z dokumentu TB-1 cel w akcji „Kotły” nie jest już osiągnięty, więc cofamy premię. Odjęliśmy 300 punktów.',
    );
    expect((await sales.targets(db.sql, p))[0]).toMatchObject({ done: 0, reached: false });

    expect(await log(p, pid, 3, 'TB-2')).toMatchObject({ status: 'logged', bonuses: [{ points: 300 }] });
    expect(await available(p)).toBe(600);
    expect((await ledger.check()).ok).toBe(true);
  });
});

describe('target bonuses and campaign limits', () => {
  it('a bonus the budget cannot cover is not paid, and is paid by a later sale once the budget allows', async () => {
    const { c, productId } = await staffCampaign({ budget: 350 });
    const p = staff();
    await sales.createTarget(db.sql, c.id, { participantId: p.id, metric: 'units', goal: 3, bonusPoints: 100 }, 'admin:test');
    const pid = await productId(p);
    expect(await log(p, pid, 3, 'BG-1')).toMatchObject({ status: 'logged', bonuses: [] });
    expect(await available(p)).toBe(300);
    expect((await campaigns.get(c.id))!.awarded).toBe(300);

    await campaigns.patch(c.id, { budget: 1000 }, 'admin:test');
    expect(await log(p, pid, 1, 'BG-2')).toMatchObject({ status: 'logged', bonuses: [{ points: 100 }] });
    expect(await available(p)).toBe(500);
    expect((await campaigns.get(c.id))!.awarded).toBe(500);
  });
});

describe('stores typed freely at registration', () => {
  it('count toward the store target and open store-limited campaigns when they name the store as words', async () => {
    const store = `Demo${randomUUID().slice(0, 4)}`;
    const { c, productId } = await staffCampaign({ stores: [store] });
    await sales.createTarget(db.sql, c.id, { store, metric: 'units', goal: 3, bonusPoints: 50 }, 'admin:test');
    const lisboa = staff(`${store}, Lisboa`);
    const porto = staff(`  ${store.toLowerCase()}   porto `);
    const other = staff(`${store}x Lisboa`);
    expect((await sales.offers(db.sql, other)).some((o) => o.campaignId === c.id)).toBe(false);
    const pid = await productId(lisboa);
    await log(lisboa, pid, 2, 'ST-1');
    expect((await sales.targets(db.sql, porto))[0]).toMatchObject({ done: 2, goal: 3 });
    expect(await log(porto, pid, 1, 'ST-2')).toMatchObject({ status: 'logged', bonuses: [{ points: 50 }] });
    expect(await available(lisboa)).toBe(200 + 50);
  });

  it('give staff their target progress for "my balance", in their language', async () => {
    const { c, productId } = await staffCampaign();
    const p = staff();
    await sales.createTarget(db.sql, c.id, { participantId: p.id, metric: 'units', goal: 10, bonusPoints: 50 }, 'admin:test');
    await log(p, await productId(p), 4, 'PR-1');
    const participant = { id: p.id, programId, role: 'retail_staff', store: null, profile: {}, locale: 'pt-PT' } as unknown as Participant;
    const lines = renderProgress(i18n.t('pt-PT'), 'pt-PT', await sales.progressOf(db.sql, participant));
    expect(lines).toContain('🎯 Caldeiras: 4 de 10 unid. — faltam 6');
    expect(renderProgress(i18n.t('pt-PT'), 'pt-PT', await sales.progressOf(db.sql, { ...participant, role: 'consumer' }))).toEqual([]);
  });
});

describe('sell-out import under contention', () => {
  it('retries an invoice whose transaction hit a deadlock instead of failing the import', async () => {
    const { productId } = await staffCampaign({ requiresApproval: true });
    const [p, q] = [staff(), staff()];
    const pid = await productId(p);
    await log(p, pid, 1, 'DL-1');
    await log(q, pid, 1, 'DL-1');
    const [first, second] = await db.sql<{ id: string }[]>`select id from sales where invoice = 'DL-1' order by id`;
    // The import locks the invoice's sales in id order; this transaction takes them the other way
    // round once the import waits, and Postgres breaks the cycle by failing the import's transaction.
    let importing: Promise<unknown> | undefined;
    await db.sql.begin(async (tx) => {
      await tx`select id from sales where id = ${second!.id} for update`;
      importing = sales.importSellOut(db.sql, 'invoice,status\nDL-1,ok\n', 'admin:m');
      await new Promise((r) => setTimeout(r, 300));
      await tx`select id from sales where id = ${first!.id} for update`;
    });
    expect(await importing).toMatchObject({ confirmed: 2 });
    expect(await available(p)).toBe(100);
    expect(await available(q)).toBe(100);
  });
});

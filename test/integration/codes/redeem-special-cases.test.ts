/**
 * Codes' special cases: a multi-use code redeemed by one participant from two chats at once, a
 * store-limited campaign's own answer, and campaign names in every language in the ledger history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '../../helpers/db.js';
import { openCodesTestBed } from '../../helpers/codes.js';
import { fixedClock } from '../../../src/shared/clock.js';
import type { Ledger } from '../../../src/services/ledger/index.js';
import type { CampaignsService } from '../../../src/services/campaigns/index.js';
import { createSummerCampaign } from '../../fixtures/campaigns.js';
import type { CodesService } from '../../../src/services/codes/index.js';
import { outcomeLine } from '../../../src/dialog/flows/codes/render.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { Earner } from '../../../src/domain/campaigns/campaign.js';

let db: TestDatabase;
let ledger: Ledger;
let campaigns: CampaignsService;
let codes: CodesService;
let programId: string;
const clock = fixedClock('2026-06-01T10:00:00Z');
const i18n = createI18n({ defaultLocale: 'pl' });

const person = (extra: Partial<Earner> = {}): Earner => ({ id: randomUUID(), programId, role: 'consumer', ...extra });

const campaign = (extra: Record<string, unknown> = {}) => createSummerCampaign(campaigns, extra);

beforeAll(async () => {
  ({ db, ledger, campaigns, codes, programId } = await openCodesTestBed({ clock, max: 30 }));
});
afterAll(async () => {
  await db?.drop();
});

describe('code fixes', () => {
  it('one participant sending a multi-use code from several chats at once is credited once and told it is theirs', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 1, points: 40, usesPerCode: 100 }, 'admin:test');
    const p = person();
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        codes.redeem(undefined, { participant: p, identity: { channel: i % 2 ? 'telegram' : 'whatsapp', externalId: `x${i}` }, codes: [list[0]!] }),
      ),
    );
    const statuses = outcomes.map((o) => o[0]!.status).sort();
    expect(statuses.filter((s) => s === 'credited')).toHaveLength(1);
    expect(outcomes.flat().filter((o) => o.status !== 'credited').every((o) => o.status === 'already_used' && o.byYou)).toBe(true);
    expect((await ledger.balance(db.sql, programId, p.id)).available).toBe(40);
    expect((await ledger.check()).ok).toBe(true);
  });

  it('a campaign for some stores answers a participant of another store with its own text', async () => {
    const c = await campaign({ stores: ['Demo'] });
    const { codes: list } = await codes.createBatch(c.id, { count: 2, points: 10 }, 'admin:test');
    const elsewhere = (await codes.redeem(undefined, { participant: person({ store: 'Outra loja' }), identity: { channel: 'web', externalId: 'a' }, codes: [list[0]!] }))[0]!;
    expect(elsewhere).toMatchObject({ status: 'not_in_audience' });
    expect(outcomeLine(i18n.t('pt-PT'), 'pt-PT', elsewhere)).toContain('esta campanha é só para algumas lojas ou regiões');
    const demo = await codes.redeem(undefined, { participant: person({ store: 'Demo, Lisboa' }), identity: { channel: 'web', externalId: 'b' }, codes: [list[1]!] });
    expect(demo[0]).toMatchObject({ status: 'credited' });
  });

  it('books the campaign name in every language, so the history reads in the reader language', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 1, points: 10 }, 'admin:test');
    const p = person();
    await codes.redeem(undefined, { participant: p, identity: { channel: 'web', externalId: 'h' }, codes: [list[0]!] });
    const [entry] = await ledger.history(db.sql, programId, p.id, { limit: 1 });
    expect(entry!.reason).toEqual({ key: 'codes:reason_code', params: { name: { pl: 'Lato', 'pt-PT': 'Verão', 'pt-BR': 'Verão', be: 'Лета' } } });
    const be = i18n.t('be');
    expect(be(entry!.reason.key, { name: (entry!.reason.params!.name as Record<string, string>).be })).toBe('Код у акцыі «Лета»');
  });
});

/**
 * "Log a sale" through the real dialog engine (no channel): product from the list, typed SKU or a
 * barcode photo decoded offline, quantity, invoice (never mistaken for a code), optional photo,
 * points, target progress and the bonus; repeated invoices refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { prepareZXingModule, writeBarcode } from 'zxing-wasm/writer';
import { buildEngine, chat, choice, i18n, text } from '../../helpers/dialog-harness.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createCampaigns, type CampaignView } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../../../src/services/codes/index.js';
import { createSales, type SalesService } from '../../../src/services/sales/index.js';
import { createBarcodeReader } from '../../../src/services/sales/barcode.js';
import { createCodesFlow } from '../../../src/dialog/flows/codes/index.js';
import { createSalesFlow } from '../../../src/dialog/flows/sales/index.js';
import type { InboundBody, Outbound } from '../../../src/dialog/types.js';
import type { Ledger } from '../../../src/services/ledger/index.js';

let db: TestDatabase;
let sales: SalesService;
let ledger: Ledger;
let campaign: CampaignView;
let engine: ReturnType<typeof buildEngine>['engine'];
const t = i18n.t('pl');

async function staffMember(externalId: string, store: string): Promise<string> {
  const [program] = await db.sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  const [p] = await db.sql<{ id: string }[]>`
    insert into participants (program_id, role, locale, name, phone, phone_verified, store, consent_version, consent_at, registered_at)
    values (${program!.id}, 'retail_staff', 'pl', 'Ola', ${`+4860${externalId.padStart(7, '0')}`}, true, ${store}, '1', now(), now())
    returning id`;
  await db.sql`insert into channel_identities (program_id, channel, external_id, chat_id, participant_id, locale_hint)
    values (${program!.id}, 'telegram', ${externalId}, ${externalId}, ${p!.id}, 'pl')`;
  return p!.id;
}

async function barcodePhoto(ean: string): Promise<Buffer> {
  const require = createRequire(import.meta.url);
  const bin = readFileSync(require.resolve('zxing-wasm/writer/zxing_writer.wasm'));
  await prepareZXingModule({ overrides: { wasmBinary: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer }, fireImmediately: true });
  const { svg } = await writeBarcode(ean, { format: 'EAN13', scale: 4 } as never);
  return sharp(Buffer.from(svg)).flatten({ background: '#fff' }).extend({ top: 60, bottom: 60, left: 60, right: 60, background: '#fff' }).jpeg().toBuffer();
}

const photo = (bytes: Buffer): InboundBody => ({ kind: 'photo', media: { ref: 'file-1', mimeType: 'image/jpeg', load: async () => bytes } });
const texts = (out: Outbound[]) => out.map((o) => o.text).join('\n');

beforeAll(async () => {
  db = await createTestDatabase();
  const built = buildEngine(db.sql, []);
  ledger = built.ledger;
  const campaigns = createCampaigns({ sql: db.sql });
  sales = createSales({ ledger, campaigns });
  const codes = createCodes({ sql: db.sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)) });
  engine = buildEngine(db.sql, [createCodesFlow({ codes }), createSalesFlow({ sales, readBarcode: createBarcodeReader() })]).engine;
  campaign = await campaigns.create(
    {
      name: { pl: 'Wiosna z kotłami', pt: 'Primavera', be: 'Вясна' },
      startsAt: new Date('2026-01-01T00:00:00Z'),
      endsAt: new Date('2030-01-01T00:00:00Z'),
      status: 'active',
      audienceRoles: ['retail_staff'],
      productRules: [
        { sku: 'B24', ean: '5901234123457', name: { pl: 'Kocioł 24 kW' }, pointsPerUnit: 100 },
        { sku: 'PUMP-8', name: 'Pompa ciepła 8 kW', pointsPerUnit: 250 },
      ],
    },
    'admin:test',
  );
});
afterAll(async () => {
  await db?.drop();
});

describe('log a sale in the chat', () => {
  it('walks product → quantity → invoice → photo, shows progress and pays the target bonus once', { timeout: 30_000 }, async () => {
    const pid = await staffMember('7001', 'Sklep Centrum');
    await sales.createTarget(db.sql, campaign.id, { participantId: pid, metric: 'units', goal: 5, bonusPoints: 500 }, 'admin:test');
    const ola = chat(engine, db.sql, { externalId: '7001' });

    const list = await ola.send(choice('sales:log'));
    expect(list[0]!.text).toBe(t('sales:ask_product'));
    const labels = list[0]!.choices!.flat().map((c) => c.label);
    expect(labels).toEqual(['Kocioł 24 kW (B24)', 'Pompa ciepła 8 kW (PUMP-8)', t('sales:cancel')]);

    const pick = list[0]!.choices!.flat()[0]!.value;
    expect((await ola.send(choice(pick)))[0]!.text).toBe(t('sales:ask_quantity', { product: 'Kocioł 24 kW', points: '100 punktów' }));
    expect((await ola.send(text('zero')))[0]!.text).toBe(t('sales:bad_quantity'));
    expect((await ola.send(text('3')))[0]!.text).toBe(t('sales:ask_invoice'));
    // Shaped like a code, but the sales step captures it: it is an invoice number here.
    expect((await ola.send(text('FV2026X001')))[0]!.text).toBe(t('sales:ask_photo'));
    const done = await ola.send(choice('sales:skip'));
    expect(texts(done)).toContain(
      t('sales:logged', { product: 'Kocioł 24 kW', quantity: 3, points: '300 punktów', campaign: 'Wiosna z kotłami', balance: '300 punktów' }),
    );
    expect(texts(done)).toContain('3 z 5 szt. – brakuje 2');

    // Typed SKU, a photo of the document, and the target is reached: bonus once.
    await ola.send(choice('sales:log'));
    await ola.send(text('pump-8'));
    await ola.send(text('2'));
    await ola.send(text('FV 2026/002'));
    const second = await ola.send(photo(Buffer.from('jpeg')));
    expect(texts(second)).toContain(t('sales:target_bonus', { points: '500 punktów' }));
    expect(texts(second)).toContain(t('sales:progress_reached', { campaign: 'Wiosna z kotłami', done: 5, goal: 5 }));
    const [sale] = await db.sql`select photo_ref from sales where invoice = 'FV 2026/002'`;
    expect(sale!.photoRef).toBe('telegram:file-1');

    // The same invoice again is refused.
    await ola.send(choice('sales:log'));
    await ola.send(text('B24'));
    await ola.send(text('1'));
    await ola.send(text('fv2026x001'));
    expect(texts(await ola.send(choice('sales:skip')))).toContain(t('sales:duplicate_invoice', { at: new Date() }).slice(0, 30));

    const balance = await ledger.balance(db.sql, (await db.sql`select program_id from participants where id = ${pid}`)[0]!.programId as string, pid);
    expect(balance.available).toBe(300 + 500 + 500);
    expect((await ledger.check()).ok).toBe(true);

    const progress = await ola.send(choice('sales:targets'));
    expect(progress[0]!.text).toContain('🏆');
  });

  it('reads the product from a barcode photo, offline', { timeout: 30_000 }, async () => {
    await staffMember('7002', 'Sklep Północ');
    const jan = chat(engine, db.sql, { externalId: '7002' });
    await jan.send(choice('sales:log'));
    const answer = await jan.send(photo(await barcodePhoto('5901234123457')));
    expect(answer[0]!.text).toBe(t('sales:ask_quantity', { product: 'Kocioł 24 kW', points: '100 punktów' }));
    const unreadable = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#888' } }).jpeg().toBuffer();
    await jan.send(choice('sales:cancel'));
    await jan.send(choice('sales:log'));
    expect((await jan.send(photo(unreadable)))[0]!.text).toContain(t('sales:barcode_unreadable'));
  });
});

/**
 * `npm run demo`: the whole service on embedded defaults (Postgres under DATA_DIR, local Redis),
 * plus a demo campaign a newcomer can try in the web chat within a minute: 20 fresh codes printed
 * below, a few products for staff to log sales, and a store target with a bonus.
 *
 * Run it again at will: the campaign and products are reused, a new batch of codes is printed
 * (codes are only ever shown at creation; the database keeps keyed hashes).
 *
 * Admin token: ADMIN_TOKEN if set, else a fresh random one per run, printed below. Either becomes
 * the ADMIN_TOKEN row and retires the previous one, so no demo token stays valid for good.
 */
import closeWithGrace from 'close-with-grace';
import { loadConfig, ConfigError } from '../src/config.js';
import { startPunkto } from '../src/main.js';
import { takeOverShutdownSignals } from '../src/db/embedded-postgres.js';
import { randomToken } from '../src/shared/ids.js';
import { createLedger } from '../src/services/ledger/index.js';
import { createCampaigns } from '../src/services/campaigns/index.js';
import { createCodes, createCodeHasher, loadCodeSecret } from '../src/services/codes/index.js';
import { createSales } from '../src/services/sales/index.js';
import { seedDemoRewards } from '../src/services/rewards/demo-seed.js';

const DEMO_STORE = 'Demo';

async function main(): Promise<void> {
  const demoToken = process.env.ADMIN_TOKEN ? undefined : `pk_demo_${randomToken(24)}`;
  let config;
  try {
    config = loadConfig({ ...process.env, ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? demoToken });
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  }
  // The service's own shutdown path, as in main.ts: embedded-postgres's exit hook would otherwise
  // exit 143 on SIGTERM before the graceful stop finished.
  takeOverShutdownSignals();
  const starting = startPunkto(config);
  closeWithGrace({ delay: 15_000 }, async ({ err }) => {
    if (err) process.stderr.write(`${String(err)}\n`);
    const running = await starting.catch(() => undefined);
    await running?.stop();
  });
  const punkto = await starting;

  const { sql, logger } = punkto;
  const ledger = createLedger({ sql, logger });
  const campaigns = createCampaigns({ sql, logger });
  const secret = await loadCodeSecret({ configured: config.CODE_SECRET, dataDir: config.DATA_DIR });
  const codes = createCodes({ sql, ledger, campaigns, hash: createCodeHasher(secret), logger });
  const sales = createSales({ ledger, campaigns, logger });

  const [existing] = await sql<{ id: string }[]>`select id from campaigns where name = 'Punkto demo' order by created_at limit 1`;
  const now = Date.now();
  const campaignId =
    existing?.id ??
    (
      await campaigns.create(
        {
          name: { pl: 'Demo Punkto', pt: 'Demo Punkto', be: 'Дэма Punkto' },
          description: {
            pl: 'Wpisuj kody z naklejek i zgłaszaj sprzedaż.',
            pt: 'Introduza códigos dos autocolantes e registe vendas.',
            be: 'Уводзьце коды з налепак і рэгіструйце продажы.',
          },
          startsAt: new Date(now - 3600_000),
          endsAt: new Date(now + 90 * 86_400_000),
          status: 'active',
          productRules: [
            { sku: 'KOC-24', ean: '5901234123457', name: { pl: 'Kocioł gazowy 24 kW', pt: 'Caldeira a gás 24 kW', be: 'Газавы кацёл 24 кВт' }, pointsPerUnit: 120 },
            { sku: 'POMPA-8', name: { pl: 'Pompa ciepła 8 kW', pt: 'Bomba de calor 8 kW', be: 'Цеплавая помпа 8 кВт' }, pointsPerUnit: 300 },
            { sku: 'TERM-1', ean: '4006381333931', name: { pl: 'Termostat Wi-Fi', pt: 'Termóstato Wi-Fi', be: 'Тэрмастат Wi-Fi' }, pointsPerUnit: 25 },
          ],
        },
        'demo',
      )
    ).id;
  if (!existing) {
    // The internal name marks the demo campaign so a second run finds it.
    await sql`update campaigns set name = 'Punkto demo' where id = ${campaignId}`;
    await sales.createTarget(sql, campaignId, { store: DEMO_STORE, metric: 'units', goal: 10, bonusPoints: 500 }, 'demo');
  }
  const { codes: list } = await codes.createBatch(campaignId, { count: 20, points: 50, label: 'demo' }, 'demo');
  await seedDemoRewards({ sql, dataDir: config.DATA_DIR, voucherKey: config.VOUCHER_KEY, defaultLocale: config.DEFAULT_LOCALE, logger });

  const url = punkto.url ?? `http://${config.HOST}:${config.PORT}`;
  const lines = [
    'Demo campaign "Demo Punkto" is running. Open the web chat, register, then send one of these codes',
    '(50 points each; try one twice, or change a character to see the answers):',
    '',
    ...list.map((c, i) => `  ${String(i + 1).padStart(2)}. ${c}`),
    '',
    `Staff: register as retail staff with the store "${DEMO_STORE}" (a city after it is fine: "${DEMO_STORE}, Lisboa") and use "log a sale":`,
    '  KOC-24 (EAN 5901234123457) 120 pts/unit · POMPA-8 300 pts/unit · TERM-1 (EAN 4006381333931) 25 pts/unit',
    `  Store target: 10 units → 500 bonus points for everyone who sold toward it.`,
    '',
    `Web chat: ${url}/chat    API docs: ${url}/docs`,
    demoToken
      ? `Admin API (token for this run; the next run replaces it): curl -H 'Authorization: Bearer ${demoToken}' ${url}/api/v1/campaigns`
      : 'Admin API: use your ADMIN_TOKEN.',
    'Ctrl+C stops the service.',
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

await main();

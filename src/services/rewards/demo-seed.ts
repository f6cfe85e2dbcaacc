/**
 * Demo rewards for `npm run demo`: one of each type, so a newcomer can redeem in the web chat
 * straight away. Runs once: a program that already has rewards is left alone.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../shared/logger.js';
import { createI18n, type Locale } from '../../i18n/index.js';
import { createLedger } from '../ledger/index.js';
import { createParticipants } from '../participants/index.js';
import { createEnqueueOutbound } from '../outbox/index.js';
import { countRewards } from '../../db/rewards/rewards-repo.js';
import { createRewards, type RewardsService } from './index.js';
import { createVoucherCipher, loadVoucherKey } from './voucher-cipher.js';

export type DemoSeedDeps =
  | { sql: Sql; rewards: RewardsService }
  /** Builds its own rewards service (what scripts/demo.ts passes: config values, no wiring). */
  | { sql: Sql; dataDir: string; voucherKey?: string | undefined; defaultLocale?: Locale; logger?: Logger };

export async function seedDemoRewards(deps: DemoSeedDeps, actor = 'demo'): Promise<{ created: number; vouchers: number }> {
  if ((await countRewards(deps.sql)) > 0) return { created: 0, vouchers: 0 };
  const rewards = 'rewards' in deps ? deps.rewards : await buildRewards(deps);

  await rewards.create(
    deps.sql,
    {
      type: 'physical',
      name: { pl: 'Kubek termiczny Punkto', pt: 'Caneca térmica Punkto', be: 'Тэрмакубак Punkto' },
      description: {
        pl: 'Stalowy kubek 350 ml, trzyma ciepło do 6 godzin.',
        pt: 'Caneca de aço de 350 ml, mantém o calor até 6 horas.',
        be: 'Сталёвы кубак на 350 мл, трымае цяпло да 6 гадзін.',
      },
      cost: 300,
      stock: 25,
      lowStockThreshold: 5,
      sortOrder: 1,
    },
    actor,
  );
  const voucher = await rewards.create(
    deps.sql,
    {
      type: 'e_voucher',
      name: { pl: 'E-bon 20 zł', pt: 'Vale digital 5 €', be: 'Электронны сертыфікат 10 Br' },
      description: {
        pl: 'Kod do sklepu internetowego, przychodzi od razu na czat.',
        pt: 'Código para a loja online, chega logo na conversa.',
        be: 'Код для інтэрнэт-крамы, прыходзіць адразу ў чат.',
      },
      cost: 100,
      lowStockThreshold: 3,
      sortOrder: 2,
    },
    actor,
  );
  const codes = Array.from({ length: 20 }, () => `DEMO-${randomBytes(4).toString('hex').toUpperCase()}`);
  const imported = await rewards.importVouchers(deps.sql, voucher.id, codes.join('\n'), actor);
  await rewards.create(
    deps.sql,
    {
      type: 'cash_out',
      name: { pl: 'Doładowanie karty przedpłaconej', pt: 'Carregamento de cartão pré-pago', be: 'Папаўненне карткі' },
      description: {
        pl: 'Zamień punkty na pieniądze na karcie. Wypłatę zatwierdza organizator programu.',
        pt: 'Troque pontos por dinheiro no cartão. O levantamento é aprovado pelo gestor do programa.',
        be: 'Абмяняйце балы на грошы на картцы. Выплату зацвярджае арганізатар праграмы.',
      },
      cost: 10,
      cashOut: { currency: 'PLN', step: 10, min: 10, max: 100 },
      sortOrder: 3,
    },
    actor,
  );
  return { created: 3, vouchers: imported.imported };
}

async function buildRewards(deps: Extract<DemoSeedDeps, { dataDir: string }>): Promise<RewardsService> {
  const defaultLocale = deps.defaultLocale ?? 'pl';
  const i18n = createI18n({ defaultLocale });
  return createRewards({
    ledger: createLedger({ sql: deps.sql, ...(deps.logger ? { logger: deps.logger } : {}) }),
    participants: createParticipants({ sql: deps.sql, defaultLocale }),
    enqueueOutbound: createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale }),
    cipher: createVoucherCipher(await loadVoucherKey({ configured: deps.voucherKey, dataDir: deps.dataDir })),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}

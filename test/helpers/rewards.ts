/**
 * Shared set-up for the rewards tests: a real rewards service on a fresh database, registered
 * participants with points, and rewards of each type.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from '../../src/db/sql.js';
import { createI18n } from '../../src/i18n/index.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import { createParticipants, type ErasureHook } from '../../src/services/participants/index.js';
import { createEnqueueOutbound } from '../../src/services/outbox/index.js';
import { createRewards, createVoucherCipher, type RewardsService } from '../../src/services/rewards/index.js';
import type { RewardCreateInput } from '../../src/domain/rewards/schema.js';
import type { Participant } from '../../src/domain/participants/index.js';
import { testLogger } from './logger.js';

export const i18n = createI18n({ defaultLocale: 'pl' });

/** `onErase`: erasure hooks for the participants service (the test pushes the features' hooks). */
export function buildRewards(sql: Sql, onErase?: ErasureHook[]) {
  const logger = testLogger();
  const participants = createParticipants({ sql, defaultLocale: 'pl', ...(onErase ? { onErase } : {}) });
  const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' });
  const ledger = createLedger({ sql, logger });
  const cipher = createVoucherCipher(randomBytes(32));
  const rewards = createRewards({ ledger, participants, enqueueOutbound, cipher, logger });
  return { sql, rewards, ledger, participants, enqueueOutbound, cipher };
}

let seq = 0;

/** A registered participant with a Telegram chat and `points` to spend. */
export async function participantWithPoints(
  sql: Sql,
  ledger: Ledger,
  points: number,
  options: { role?: string; locale?: string; name?: string; externalId?: string } = {},
): Promise<Participant> {
  const [program] = await sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  const n = ++seq;
  const [p] = await sql<Participant[]>`
    insert into participants (program_id, role, locale, name, consent_version, consent_at, registered_at, store)
    values (${program!.id}, ${options.role ?? 'consumer'}, ${options.locale ?? 'pl'}, ${options.name ?? `Uczestnik ${n}`}, '1', now(), now(),
            ${options.role && options.role !== 'consumer' && options.role !== 'manager' ? 'Sklep 1' : null})
    returning *`;
  const externalId = options.externalId ?? `${900000 + n}-${randomBytes(3).toString('hex')}`;
  await sql`insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
            values (${program!.id}, 'telegram', ${externalId}, ${externalId}, ${p!.id})`;
  if (points > 0) {
    await ledger.earn(sql, {
      programId: program!.id,
      participantId: p!.id,
      amount: points,
      source: 'bonus',
      key: `test:bonus:${p!.id}`,
      reason: { key: 'test' },
      expiresAt: null,
    });
  }
  return p!;
}

export const physical = (over: Partial<RewardCreateInput> = {}): RewardCreateInput => ({
  type: 'physical',
  name: { pl: 'Kubek termiczny', pt: 'Caneca térmica', be: 'Тэрмакубак' },
  description: { pl: 'Stalowy kubek 350 ml', pt: 'Caneca de aço 350 ml', be: 'Сталёвы кубак 350 мл' },
  cost: 500,
  stock: 10,
  ...over,
});

export const voucher = (over: Partial<RewardCreateInput> = {}): RewardCreateInput => ({
  type: 'e_voucher',
  name: { pl: 'Bon Allegro 50 zł', pt: 'Vale FNAC 10 €', be: 'Сертыфікат 20 Br' },
  cost: 300,
  lowStockThreshold: 5,
  ...over,
});

export const cashOut = (over: Partial<RewardCreateInput> = {}): RewardCreateInput => ({
  type: 'cash_out',
  name: { pl: 'Doładowanie karty', pt: 'Carregamento de cartão', be: 'Папаўненне карткі' },
  cost: 10,
  cashOut: { currency: 'PLN', step: 10, min: 20, max: 200 },
  ...over,
});

export async function balanceOf(env: { ledger: Ledger; sql: Sql }, p: Participant) {
  return env.ledger.balance(env.sql, p.programId, p.id);
}

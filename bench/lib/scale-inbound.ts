/**
 * The whole inbound path as bench:redeem runs it (inbox row → dialog engine with group commit →
 * codes → ledger → reply in the outbox), for bench:scale: chats are seeded participants' web
 * identities ('w' || i), each sending fresh codes of a real batch back to back.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Sql } from '../../src/db/sql.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import { createCampaigns } from '../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../../src/services/codes/index.js';
import { createCodesFlow } from '../../src/dialog/flows/codes/index.js';
import { createDialogEngine } from '../../src/dialog/engine.js';
import { createFlows } from '../../src/dialog/flow.js';
import { createI18n } from '../../src/i18n/index.js';
import { createParticipants } from '../../src/services/participants/index.js';
import { createEnqueueOutbound } from '../../src/services/outbox/index.js';
import { createLogger } from '../../src/shared/logger.js';

export interface InboundPath {
  ledger: Ledger;
  /** Chats `chats` (seeded participant numbers) send codes until `until()` says stop; latencies in ms. */
  drive(chats: number[], until: () => boolean): Promise<number[]>;
}

export async function createInboundPath(sql: Sql, codeCount: number): Promise<InboundPath> {
  const logger = createLogger({ level: 'silent', pretty: false });
  const i18n = createI18n({ defaultLocale: 'pl' });
  const ledger = createLedger({ sql, logger });
  const campaigns = createCampaigns({ sql, logger });
  const codes = createCodes({ sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)), logger });
  const engine = createDialogEngine({
    sql,
    i18n,
    participants: createParticipants({ sql, defaultLocale: 'pl' }),
    enqueueOutbound: createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' }),
    flows: createFlows([createCodesFlow({ codes })]),
    balances: ledger,
    logger,
    defaultLocale: 'pl',
  });
  const campaign = await campaigns.create(
    { name: 'Bench', startsAt: new Date(Date.now() - 3600_000), endsAt: new Date(Date.now() + 30 * 86_400_000), status: 'active' },
    'bench',
  );
  const { codes: pool } = await codes.createBatch(campaign.id, { count: codeCount, points: 10 }, 'bench');
  let next = 0;
  let seq = 0;
  return {
    ledger,
    async drive(chats, until) {
      const latencies: number[] = [];
      await Promise.all(
        chats.map(async (i) => {
          while (!until()) {
            const code = pool[next++];
            // a long sweep can outlast the batch: the chat stops, and its latencies so far count
            if (!code) return;
            const t0 = performance.now();
            await engine.receive({
              kind: 'text',
              text: code,
              messageId: `s${++seq}`,
              from: { channel: 'web', externalId: `w${i}` },
              receivedAt: new Date(),
            });
            latencies.push(performance.now() - t0);
          }
        }),
      );
      return latencies;
    },
  };
}

/**
 * `buildTestEngine(sql, options)`: the dialog engine as main.ts assembles it (participants, outbox,
 * ledger balances), on a test file's database, with the feature modules a test needs. No fakes
 * below the engine: Postgres is the machine's.
 */
import { createI18n, type Locale } from '../../src/i18n/index.js';
import type { Sql } from '../../src/db/sql.js';
import { createParticipants, type ErasureHook } from '../../src/services/participants/index.js';
import { createEnqueueOutbound } from '../../src/services/outbox/index.js';
import { createLedger } from '../../src/services/ledger/index.js';
import { createDialogEngine, type DialogEngineDeps } from '../../src/dialog/engine.js';
import { createFlows, type FlowModule } from '../../src/dialog/flow.js';
import type { BalanceSource } from '../../src/dialog/flows/system/balance-source.js';
import type { Logger } from '../../src/shared/logger.js';
import { testLogger } from './logger.js';

export const testI18n = createI18n({ defaultLocale: 'pl' });

export interface TestEngineOptions {
  modules?: FlowModule[];
  defaultLocale?: Locale;
  /** "My balance" and /mydata: the ledger unless given; `false` for an engine without them. */
  balances?: BalanceSource | false;
  /** Filled by the test (features keeping personal data); read at each erasure. */
  erasureHooks?: ErasureHook[];
  logger?: Logger;
  onCommitted?: DialogEngineDeps['onCommitted'];
  groupCommit?: DialogEngineDeps['groupCommit'];
  mediaTimeoutMs?: number;
}

export function buildTestEngine(sql: Sql, options: TestEngineOptions = {}) {
  const defaultLocale = options.defaultLocale ?? 'pl';
  const logger = options.logger ?? testLogger();
  const participants = createParticipants({ sql, defaultLocale, ...(options.erasureHooks ? { onErase: options.erasureHooks } : {}) });
  const enqueueOutbound = createEnqueueOutbound({ translate: (l) => testI18n.t(l), defaultLocale });
  const ledger = createLedger({ sql, logger });
  const balances = options.balances === undefined ? ledger : options.balances;
  const engine = createDialogEngine({
    sql,
    i18n: testI18n,
    participants,
    enqueueOutbound,
    flows: createFlows(options.modules ?? []),
    ...(balances ? { balances } : {}),
    logger,
    defaultLocale,
    ...(options.onCommitted ? { onCommitted: options.onCommitted } : {}),
    ...(options.groupCommit ? { groupCommit: options.groupCommit } : {}),
    ...(options.mediaTimeoutMs !== undefined ? { mediaTimeoutMs: options.mediaTimeoutMs } : {}),
  });
  return { engine, participants, enqueueOutbound, ledger };
}

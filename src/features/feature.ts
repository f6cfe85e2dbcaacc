/**
 * A feature as the composition root sees it: the chat flows, HTTP routes, workers and personal-data
 * hooks of one area, made from the shared infrastructure (`Core`). main.ts makes the list and hands
 * each part to the engine, the server or the worker role; no feature looks up another at run time.
 */
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { RedisConnections } from '../jobs/redis.js';
import type { I18n } from '../i18n/index.js';
import type { Logger } from '../shared/logger.js';
import type { RouteModule } from '../http/server.js';
import type { FlowModule } from '../dialog/flow.js';
import type { PersonalDataSource, ProgressLines } from '../dialog/flows/system/balance-source.js';
import type { ErasureHook, ParticipantsService } from '../services/participants/index.js';
import type { EnqueueOutbound } from '../services/outbox/index.js';
import type { Ledger } from '../services/ledger/index.js';
import type { MediaStore } from '../services/receipts/index.js';
import type { Roles } from './roles.js';

/** Things that need stopping, in reverse order of start (see `createLifecycle`). */
export interface Lifecycle {
  add(name: string, stop: () => Promise<unknown>): void;
}

export interface Core {
  config: Config;
  logger: Logger;
  sql: Sql;
  redis: RedisConnections;
  i18n: I18n;
  runs: Roles;
  life: Lifecycle;
  ledger: Ledger;
  participants: ParticipantsService;
  enqueueOutbound: EnqueueOutbound;
  /** Photos (receipts) under DATA_DIR/media; channels read them back to show review cards. */
  mediaStore: MediaStore;
}

export interface Feature {
  flows?: FlowModule[];
  apiRoutes?: RouteModule[];
  publicRoutes?: RouteModule[];
  /** Personal data the feature keeps, removed with the participant. */
  erasureHooks?: ErasureHook[];
  /** What it adds to "my balance" and /mydata. */
  progress?: ProgressLines;
  personalData?: PersonalDataSource[];
  /** Its workers, started in the worker role once everything else exists. */
  startWorkers?(): Promise<void>;
}

export function createLifecycle(logger: Logger): Lifecycle & { stop(): Promise<void> } {
  const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  return {
    add: (name, stop) => void stops.push({ name, stop }),
    async stop() {
      // Reverse order of start: HTTP and bots first, connections and embedded servers last.
      for (const s of stops.reverse()) {
        try {
          await s.stop();
        } catch (error) {
          logger.warn({ err: error, what: s.name }, 'error while stopping');
        }
      }
      stops.length = 0;
    },
  };
}

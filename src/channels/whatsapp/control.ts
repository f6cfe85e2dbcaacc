/**
 * What the admin API and /readyz see of WhatsApp, wherever the client runs. In ROLE=all the
 * session is in this process (`localControl`); with ROLE=whatsapp in its own process, that process
 * publishes its status to Postgres (whatsapp_status) and picks up logout requests from there
 * (`remoteControl` on the web side, `createStatusBoard().follow` on the WhatsApp side).
 */
import type { Db } from '../../db/sql.js';
import * as status from '../../db/whatsapp/status-repo.js';
import type { Logger } from '../../shared/logger.js';
import type { WhatsAppSession, WhatsAppState, WhatsAppStatus } from './session.js';

export interface WhatsAppView {
  state: WhatsAppState | 'unknown';
  qr?: string;
  detail?: string;
  since?: Date;
}

export interface WhatsAppControl {
  status(): Promise<WhatsAppView>;
  /** Drops the linked device; a new QR follows. */
  logout(): Promise<void>;
}

export function localControl(session: WhatsAppSession): WhatsAppControl {
  return {
    status: async () => session.status(),
    logout: () => session.logout(),
  };
}

/** A status row older than this means the WhatsApp process is not running. */
export const STALE_AFTER_MS = 90_000;

export interface StatusBoard {
  publish(status: WhatsAppStatus): Promise<void>;
  read(now?: Date): Promise<WhatsAppView>;
  requestLogout(): Promise<void>;
  /**
   * In the WhatsApp process: publishes every status change and a heartbeat, and runs a logout
   * when the API asked for one. Returns a stop function.
   */
  follow(session: WhatsAppSession, logger: Logger, everyMs?: number): () => Promise<void>;
}

export function createStatusBoard(db: Db): StatusBoard {
  const board: StatusBoard = {
    async publish(s) {
      await status.publishStatus(db, s);
    },
    async read(now = new Date()) {
      const row = await status.readStatus<WhatsAppState>(db);
      if (!row) return { state: 'unknown', detail: 'the WhatsApp process has not reported yet' };
      if (now.getTime() - row.updatedAt.getTime() > STALE_AFTER_MS) {
        return { state: 'unknown', detail: 'no recent report from the WhatsApp process', since: row.updatedAt };
      }
      return { state: row.state, ...(row.qr ? { qr: row.qr } : {}), ...(row.detail ? { detail: row.detail } : {}), since: row.updatedAt };
    },
    async requestLogout() {
      await status.requestLogout(db);
    },
    follow(session, logger, everyMs = 5_000) {
      let busy = Promise.resolve();
      const run = (fn: () => Promise<unknown>) => {
        busy = busy.then(fn).then(
          () => undefined,
          (error: unknown) => logger.warn({ err: error }, 'whatsapp status board'),
        );
        return busy;
      };
      const off = session.onStatus((s) => void run(() => board.publish(s)));
      const tick = () =>
        run(async () => {
          await board.publish(session.status());
          if (await status.takeLogoutRequest(db)) await session.logout();
        });
      void tick();
      const timer = setInterval(() => void tick(), everyMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        off();
        await busy;
      };
    },
  };
  return board;
}

export function remoteControl(board: StatusBoard): WhatsAppControl {
  return { status: () => board.read(), logout: () => board.requestLogout() };
}

/** `/readyz` detail: reported, never making the service unready (ServerDeps.readinessDetails). */
export function whatsappReadiness(control: WhatsAppControl) {
  return async () => {
    const s = await control.status();
    return { whatsapp: { ok: s.state === 'ready', state: s.state, ...(s.detail && s.state !== 'ready' ? { error: s.detail } : {}) } };
  };
}

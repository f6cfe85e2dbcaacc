import type { Config } from '../config.js';

/** What a process runs, decided once from ROLE (DESIGN §4). */
export interface Roles {
  /** The HTTP server (admin API, web chat, webhooks) and inbound Telegram updates. */
  web: boolean;
  /** The outbox sender, broadcast delivery, receipt reading (OCR) and ledger maintenance. */
  worker: boolean;
  /** The WhatsApp Web client (when WHATSAPP_ENABLED). */
  whatsapp: boolean;
}

export function rolesOf(role: Config['ROLE']): Roles {
  return { web: role === 'all' || role === 'web', worker: role === 'all' || role === 'worker', whatsapp: role === 'all' || role === 'whatsapp' };
}

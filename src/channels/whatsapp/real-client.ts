/**
 * The real whatsapp-web.js client factory: Debian's chromium (never a downloaded browser), headless,
 * no sandbox (the service may run as root in a container), and a session strategy that survives
 * restarts: LocalAuth under DATA_DIR, or RemoteAuth with the session archive kept in Postgres so a
 * new container picks the linked device up without a new QR scan.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import type WAWebJS from 'whatsapp-web.js';
import type { WaClient, WaClientFactory } from './wa-client.js';

// whatsapp-web.js is CommonJS and loads puppeteer on import: require it lazily so processes that
// never run WhatsApp (web, worker roles) do not pay for it.
const require = createRequire(import.meta.url);
const loadLibrary = (): typeof WAWebJS => require('whatsapp-web.js') as typeof WAWebJS;

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-setuid-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--disable-background-networking',
] as const;

export type SessionStrategy =
  | { kind: 'local'; dataDir: string }
  /** `store`: see remote-auth-store.ts; the archive is staged under dataDir while it is zipped. */
  | { kind: 'remote'; dataDir: string; store: WAWebJS.Store; backupEveryMs?: number };

export interface RealClientOptions {
  chromiumPath: string;
  session: SessionStrategy;
  /** One client per number; the id names the session folder / archive. */
  clientId?: string;
}

export function createRealClientFactory(options: RealClientOptions): WaClientFactory {
  const clientId = options.clientId ?? 'punkto';
  return {
    describe: { strategy: options.session.kind, executablePath: options.chromiumPath },
    create() {
      const lib = loadLibrary();
      const dataPath = path.resolve(options.session.dataDir, 'whatsapp');
      const authStrategy =
        options.session.kind === 'local'
          ? new lib.LocalAuth({ clientId, dataPath })
          : new lib.RemoteAuth({
              clientId,
              dataPath,
              store: options.session.store,
              // The library's minimum; a shorter loss window is not worth zipping the profile more often.
              backupSyncIntervalMs: Math.max(60_000, options.session.backupEveryMs ?? 5 * 60_000),
            });
      const client = new lib.Client({
        authStrategy,
        puppeteer: { executablePath: options.chromiumPath, headless: true, args: [...CHROMIUM_ARGS] },
        authTimeoutMs: 60_000,
        // 0 = keep refreshing the QR until an admin scans it.
        qrMaxRetries: 0,
      });
      return client as unknown as WaClient;
    },
    media(mimetype, data, filename) {
      const lib = loadLibrary();
      return new lib.MessageMedia(mimetype, data.toString('base64'), filename ?? null);
    },
  };
}

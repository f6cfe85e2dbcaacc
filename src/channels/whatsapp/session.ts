/**
 * The life of the WhatsApp Web client: one client per process, states starting → qr → ready, and
 * back to disconnected when WhatsApp drops us. On a disconnect whatsapp-web.js destroys the client
 * itself, so reconnecting means a NEW client (with backoff). Chromium grows over long sessions, so
 * the client is also restarted on a schedule; a periodic `getState()` catches a page that died
 * without saying so. Logging out (from the API) drops the linked device and shows a fresh QR
 * without restarting the service.
 *
 * Incoming messages are handed on one at a time per chat, in arrival order.
 */
import QRCode from 'qrcode';
import type { Logger } from '../../shared/logger.js';
import type { WaClient, WaClientFactory, WaMessage } from './wa-client.js';

export type WhatsAppState = 'off' | 'starting' | 'qr' | 'ready' | 'disconnected';

export interface WhatsAppStatus {
  state: WhatsAppState;
  /** The QR payload to scan while `state === 'qr'`. */
  qr?: string;
  /** Why it is disconnected / what is happening, for admins. */
  detail?: string;
  since: Date;
}

export interface SessionOptions {
  /** Scheduled restart to keep Chromium's memory in check; 0 disables. */
  restartEveryMs: number;
  /** How often `getState()` is asked while ready; 0 disables. */
  healthEveryMs: number;
  /** Reconnect backoff: first delay, doubling up to the max, with jitter. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Print the QR in the terminal (the qrcode package's terminal renderer). */
  printQr: boolean;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  restartEveryMs: 24 * 60 * 60 * 1000,
  healthEveryMs: 60_000,
  backoffInitialMs: 5_000,
  backoffMaxMs: 5 * 60_000,
  printQr: true,
};

export interface SessionDeps {
  factory: WaClientFactory;
  logger: Logger;
  /** Every incoming message of the current client; errors are logged, never crash the session. */
  onMessage(message: WaMessage, client: WaClient): Promise<void>;
  options?: Partial<SessionOptions>;
  /** Where the terminal QR goes (stdout by default). */
  qrOut?: NodeJS.WritableStream;
}

export interface WhatsAppSession {
  start(): void;
  stop(): Promise<void>;
  /** Logs the linked device out and starts over with a new QR. */
  logout(): Promise<void>;
  /** Destroys the current client and starts a new one (used by the schedule and health check). */
  restart(why: string): Promise<void>;
  status(): WhatsAppStatus;
  /** The client, only while ready. */
  readyClient(): WaClient | undefined;
  onStatus(listener: (status: WhatsAppStatus) => void): () => void;
  /** Resolves when the state becomes `state` (tests, startup logs). */
  waitFor(state: WhatsAppState, timeoutMs?: number): Promise<void>;
  /** Asks WhatsApp Web for its connection state; restarts the client when it is not connected. */
  checkHealth(): Promise<{ ok: boolean; state: string | null }>;
}

export function createWhatsAppSession(deps: SessionDeps): WhatsAppSession {
  const o = { ...DEFAULT_SESSION_OPTIONS, ...deps.options };
  const log = deps.logger.child({ channel: 'whatsapp' });
  const listeners = new Set<(s: WhatsAppStatus) => void>();
  let status: WhatsAppStatus = { state: 'off', since: new Date() };
  let client: WaClient | undefined;
  let generation = 0;
  let stopped = true;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  const chats = new Map<string, Promise<void>>();

  const setStatus = (next: Omit<WhatsAppStatus, 'since'>) => {
    status = { ...next, since: new Date() };
    for (const l of listeners) {
      try {
        l(status);
      } catch (error) {
        log.warn({ err: error }, 'whatsapp status listener failed');
      }
    }
  };

  const clearTimers = () => {
    clearTimeout(reconnectTimer);
    clearInterval(restartTimer);
    clearInterval(healthTimer);
    reconnectTimer = restartTimer = healthTimer = undefined;
  };

  /** Forgets the current client (its late events are ignored) and closes its browser. */
  async function dispose(): Promise<void> {
    const old = client;
    client = undefined;
    generation++;
    if (!old) return;
    old.removeAllListeners();
    // A destroyed client may still emit; keep one no-op 'error' listener so nothing crashes.
    old.on('error', () => undefined);
    await old.destroy().catch((error: unknown) => log.debug({ err: error }, 'destroy of old client failed'));
  }

  function scheduleReconnect(reason: string): void {
    if (stopped) return;
    clearTimeout(reconnectTimer);
    const delay = Math.min(o.backoffMaxMs, o.backoffInitialMs * 2 ** failures) * (0.8 + Math.random() * 0.4);
    failures++;
    log.warn({ reason, inMs: Math.round(delay), attempt: failures }, 'whatsapp disconnected; reconnecting');
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void launch();
    }, delay);
  }

  function deliver(message: WaMessage, from: WaClient): void {
    const key = message.from;
    const previous = chats.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => deps.onMessage(message, from))
      .catch((error: unknown) => log.error({ err: error, type: message.type }, 'whatsapp message not handled'));
    chats.set(key, next);
    void next.then(() => {
      if (chats.get(key) === next) chats.delete(key);
    });
  }

  async function launch(): Promise<void> {
    if (stopped) return;
    clearTimeout(reconnectTimer);
    await dispose();
    const mine = ++generation;
    let c: WaClient;
    try {
      c = deps.factory.create();
    } catch (error) {
      setStatus({ state: 'disconnected', detail: `client not created: ${(error as Error).message}` });
      scheduleReconnect('create failed');
      return;
    }
    client = c;
    const current = () => mine === generation && !stopped;
    setStatus({ state: 'starting' });

    c.on('qr', (qr: string) => {
      if (!current()) return;
      setStatus({ state: 'qr', qr });
      if (o.printQr) void printQr(qr);
    });
    c.on('authenticated', () => {
      if (current()) log.info('whatsapp authenticated');
    });
    c.on('auth_failure', (message: unknown) => {
      if (!current()) return;
      setStatus({ state: 'disconnected', detail: `authentication failed: ${String(message)}` });
      scheduleReconnect('auth_failure');
    });
    c.on('ready', () => {
      if (!current()) return;
      failures = 0;
      setStatus({ state: 'ready' });
      log.info('whatsapp ready');
    });
    c.on('disconnected', (reason: unknown) => {
      if (!current()) return;
      setStatus({ state: 'disconnected', detail: String(reason) });
      // The library destroys this client itself; drop it and build a new one.
      scheduleReconnect(String(reason));
    });
    c.on('message', (message: WaMessage) => {
      if (current()) deliver(message, c);
    });
    c.on('error', (error: unknown) => log.warn({ err: error }, 'whatsapp client error'));

    try {
      await c.initialize();
    } catch (error) {
      if (!current()) return;
      setStatus({ state: 'disconnected', detail: `start failed: ${(error as Error).message}` });
      scheduleReconnect('initialize failed');
    }
  }

  async function printQr(qr: string): Promise<void> {
    try {
      const art = await QRCode.toString(qr, { type: 'terminal', small: true });
      (deps.qrOut ?? process.stdout).write(`\nScan this QR code in WhatsApp → Linked devices → Link a device:\n${art}\n`);
    } catch (error) {
      log.warn({ err: error }, 'could not print the whatsapp QR');
    }
  }

  const session: WhatsAppSession = {
    start() {
      if (!stopped) return;
      stopped = false;
      failures = 0;
      if (o.restartEveryMs > 0) {
        restartTimer = setInterval(() => {
          if (status.state === 'ready') void session.restart('scheduled restart');
        }, o.restartEveryMs);
        restartTimer.unref();
      }
      if (o.healthEveryMs > 0) {
        healthTimer = setInterval(() => {
          if (status.state === 'ready') void session.checkHealth();
        }, o.healthEveryMs);
        healthTimer.unref();
      }
      void launch();
    },
    async stop() {
      stopped = true;
      clearTimers();
      await dispose();
      await Promise.allSettled([...chats.values()]);
      setStatus({ state: 'off' });
    },
    async logout() {
      const c = client;
      // Events the old client emits while logging out (a 'disconnected' LOGOUT) are not ours to act on.
      generation++;
      if (c) {
        try {
          await c.logout();
        } catch (error) {
          // No page yet (still starting / showing a QR): nothing linked to log out of.
          log.debug({ err: error }, 'whatsapp logout on a client that was not ready');
        }
      }
      log.info('whatsapp logged out; waiting for a new QR scan');
      if (!stopped) {
        failures = 0;
        await launch();
      }
    },
    async restart(why) {
      if (stopped) return;
      log.info({ why }, 'restarting whatsapp client');
      await launch();
    },
    status: () => status,
    readyClient: () => (status.state === 'ready' ? client : undefined),
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor(state, timeoutMs = 10_000) {
      if (status.state === state) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`whatsapp did not reach '${state}' within ${timeoutMs} ms (now '${status.state}')`));
        }, timeoutMs);
        const off = session.onStatus((s) => {
          if (s.state !== state) return;
          clearTimeout(timer);
          off();
          resolve();
        });
      });
    },
    async checkHealth() {
      const c = client;
      if (!c || status.state !== 'ready') return { ok: false, state: null };
      let state: string | null = null;
      try {
        state = await Promise.race([
          c.getState(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('getState timed out')), 15_000).unref()),
        ]);
      } catch (error) {
        log.warn({ err: error }, 'whatsapp health check failed');
      }
      if (state === 'CONNECTED') return { ok: true, state };
      if (c === client) {
        setStatus({ state: 'disconnected', detail: `health check: ${state ?? 'no answer'}` });
        scheduleReconnect('health check');
      }
      return { ok: false, state };
    },
  };
  return session;
}

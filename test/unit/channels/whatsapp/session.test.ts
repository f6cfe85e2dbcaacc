import { PassThrough } from 'node:stream';
import { describe, expect, it, afterEach } from 'vitest';
import { createWhatsAppSession, type WhatsAppSession, type WhatsAppState } from '../../../../src/channels/whatsapp/session.js';
import type { WaMessage } from '../../../../src/channels/whatsapp/wa-client.js';
import { createFakeWhatsApp, waMessage } from '../../../fakes/whatsapp-client.js';
import { testLogger } from '../../../helpers/logger.js';

const sessions: WhatsAppSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.stop()));
});

function setup(linked: boolean, onMessage: (m: WaMessage) => Promise<void> = async () => undefined) {
  const fake = createFakeWhatsApp({ linked });
  const qrOut = new PassThrough();
  let printed = '';
  qrOut.on('data', (c: Buffer) => (printed += c.toString()));
  const states: WhatsAppState[] = [];
  const session = createWhatsAppSession({
    factory: fake.factory,
    logger: testLogger(),
    onMessage: (m) => onMessage(m),
    options: { backoffInitialMs: 5, backoffMaxMs: 20, healthEveryMs: 0, restartEveryMs: 0 },
    qrOut,
  });
  session.onStatus((s) => states.push(s.state));
  sessions.push(session);
  return { fake, session, states, printed: () => printed };
}

describe('whatsapp session', () => {
  it('shows a QR (kept for the API and printed in the terminal), then becomes ready when scanned', async () => {
    const { fake, session, states, printed } = setup(false);
    session.start();
    await session.waitFor('qr');
    expect(session.status().qr).toBe('2@fake-qr-1,abc,def');
    await expect.poll(printed).toContain('Linked devices');
    expect(session.readyClient()).toBeUndefined();
    fake.latest().scan();
    await session.waitFor('ready');
    expect(session.readyClient()).toBe(fake.latest());
    expect(states).toEqual(['starting', 'qr', 'ready']);
  });

  it('reconnects with a NEW client after a disconnect, without a new QR when the session is kept', async () => {
    const { fake, session } = setup(true);
    session.start();
    await session.waitFor('ready');
    const first = fake.latest();
    first.disconnect('CONFLICT');
    expect(session.status()).toMatchObject({ state: 'disconnected', detail: 'CONFLICT' });
    await session.waitFor('ready');
    expect(fake.clients).toHaveLength(2);
    expect(fake.latest()).not.toBe(first);
    expect(fake.world.qrCount).toBe(0);
  });

  it('keeps retrying with backoff while the client cannot start', async () => {
    const { fake, session } = setup(true);
    let failing = 3;
    const create = fake.factory.create.bind(fake.factory);
    fake.factory.create = () => {
      const c = create();
      if (failing-- > 0) c.initialize = async () => Promise.reject(new Error('Failed to launch the browser process'));
      return c;
    };
    session.start();
    await session.waitFor('ready', 5000);
    expect(fake.clients).toHaveLength(4);
  });

  it('logs out and offers a new QR without a restart of the service', async () => {
    const { fake, session } = setup(true);
    session.start();
    await session.waitFor('ready');
    const linked = fake.latest();
    await session.logout();
    expect(linked.loggedOut).toBe(true);
    await session.waitFor('qr');
    expect(fake.world.linked).toBe(false);
    fake.latest().scan();
    await session.waitFor('ready');
    // The old client's LOGOUT 'disconnected' was not taken for a connection loss: one new client only.
    expect(fake.clients).toHaveLength(2);
  });

  it('restarts the client when getState() says it is no longer connected', async () => {
    const { fake, session } = setup(true);
    session.start();
    await session.waitFor('ready');
    fake.latest().pageState = 'UNPAIRED_IDLE';
    expect(await session.checkHealth()).toEqual({ ok: false, state: 'UNPAIRED_IDLE' });
    await session.waitFor('ready');
    expect(fake.clients).toHaveLength(2);
    expect(await session.checkHealth()).toEqual({ ok: true, state: 'CONNECTED' });
  });

  it('hands messages on in arrival order per chat, and a failing handler does not stop the next', async () => {
    const seen: string[] = [];
    const { fake, session } = setup(true, async (m) => {
      if (m.body === 'boom') throw new Error('handler failed');
      await new Promise((r) => setTimeout(r, m.body === 'slow' ? 30 : 1));
      seen.push(m.body);
    });
    session.start();
    await session.waitFor('ready');
    const c = fake.latest();
    for (const body of ['slow', 'boom', 'fast', 'last']) c.receive(waMessage({ from: '351912345678@c.us', body }));
    await expect.poll(() => seen).toEqual(['slow', 'fast', 'last']);
  });

  it('ignores events from a client it has replaced, and stops cleanly', async () => {
    const seen: string[] = [];
    const { fake, session } = setup(true, async (m) => void seen.push(m.body));
    session.start();
    await session.waitFor('ready');
    const old = fake.latest();
    await session.restart('test');
    await session.waitFor('ready');
    old.receive(waMessage({ from: '351912345678@c.us', body: 'from the old page' }));
    old.emit('disconnected', 'NAVIGATION');
    expect(session.status().state).toBe('ready');
    await session.stop();
    expect(session.status().state).toBe('off');
    expect(fake.latest().destroyed).toBe(true);
    expect(seen).toEqual([]);
  });
});

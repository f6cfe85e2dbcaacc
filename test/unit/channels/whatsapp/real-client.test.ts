import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type WAWebJS from 'whatsapp-web.js';
import { createRealClientFactory, CHROMIUM_ARGS } from '../../../../src/channels/whatsapp/real-client.js';

const lib = createRequire(import.meta.url)('whatsapp-web.js') as typeof WAWebJS;
type Inspectable = { options: { puppeteer: Record<string, unknown> }; authStrategy: Record<string, unknown>; pupBrowser: unknown };

describe('the real whatsapp-web.js client (constructed, never launched)', () => {
  it('uses the configured chromium, headless, without sandbox, and LocalAuth under DATA_DIR', () => {
    const factory = createRealClientFactory({ chromiumPath: '/opt/chromium/chrome', session: { kind: 'local', dataDir: '/var/punkto' } });
    const client = factory.create() as unknown as Inspectable;
    expect(client).toBeInstanceOf(lib.Client);
    expect(client.options.puppeteer).toMatchObject({ executablePath: '/opt/chromium/chrome', headless: true, args: [...CHROMIUM_ARGS] });
    expect(client.authStrategy).toBeInstanceOf(lib.LocalAuth);
    expect(client.authStrategy.dataPath).toBe(path.resolve('/var/punkto/whatsapp'));
    expect(client.authStrategy.clientId).toBe('punkto');
    expect(client.pupBrowser).toBeNull();
  });

  it('uses RemoteAuth with the Postgres store when asked', () => {
    const store = { sessionExists: async () => false, save: async () => undefined, extract: async () => undefined, delete: async () => undefined };
    const factory = createRealClientFactory({ chromiumPath: '/usr/bin/chromium', session: { kind: 'remote', dataDir: './.data', store } });
    const client = factory.create() as unknown as Inspectable;
    expect(client.authStrategy).toBeInstanceOf(lib.RemoteAuth);
    expect(client.authStrategy.store).toBe(store);
    expect(client.authStrategy.backupSyncIntervalMs).toBeGreaterThanOrEqual(60_000);
    expect(client.options.puppeteer.executablePath).toBe('/usr/bin/chromium');
  });

  it('builds the library’s MessageMedia for images', () => {
    const media = createRealClientFactory({ chromiumPath: '/usr/bin/chromium', session: { kind: 'local', dataDir: '.' } }).media('image/png', Buffer.from('png'), 'a.png');
    expect(media).toBeInstanceOf(lib.MessageMedia);
    expect(media).toMatchObject({ mimetype: 'image/png', data: Buffer.from('png').toString('base64'), filename: 'a.png' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchPublic, isPublicAddress, UnsafeUrlError } from '../../src/channels/public-fetch.js';
import { imageLoader } from '../../src/channels/whatsapp/images.js';

let server: http.Server;
let base: string;
let hits = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    if (req.url === '/big') return res.end(Buffer.alloc(200_000));
    if (req.url === '/hop') return res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/small` }).end();
    res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from('89504e470d0a1a0a', 'hex'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the WhatsApp image loader fetches only public http(s) URLs', () => {
  it('refuses loopback, private, link-local and metadata addresses, names that resolve to them, and other schemes — before connecting', async () => {
    const before = hits;
    for (const url of [`${base}/small`, 'http://localhost:1/x.png', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/x.png', 'http://[::1]/x.png', 'file:///etc/passwd', 'ftp://example.org/x.png']) {
      await expect(fetchPublic(url), url).rejects.toBeInstanceOf(UnsafeUrlError);
    }
    await expect(imageLoader(async () => undefined)({ url: `${base}/small` })).rejects.toBeInstanceOf(UnsafeUrlError);
    expect(hits).toBe(before);
  });

  it('keeps to the size limit and follows a redirect only to a checked address', async () => {
    const local = { allowAddress: () => true };
    expect((await fetchPublic(`${base}/small`, local)).contentType).toBe('image/png');
    await expect(fetchPublic(`${base}/big`, { ...local, maxBytes: 100_000 })).rejects.toThrow(/limit/);
    expect((await fetchPublic(`${base}/hop`, local)).data.length).toBe(8);
  });

  it('tells public addresses from the rest', () => {
    expect(isPublicAddress('93.184.216.34')).toBe(true);
    expect(isPublicAddress('2606:4700::1111')).toBe(true);
    for (const a of ['127.0.0.1', '10.0.0.1', '172.20.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '0.0.0.0']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });
});

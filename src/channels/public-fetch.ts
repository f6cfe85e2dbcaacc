/**
 * Downloads a picture from a URL a manager typed (broadcast and reward images) without letting
 * that URL reach the server's own network: http(s) only, every address the name resolves to is
 * checked at connect time (so a DNS answer that changes between check and use cannot slip through),
 * loopback, private, link-local, CGNAT and multicast ranges refused, at most 3 redirects (each
 * checked the same way), a size cap and a time limit.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv6');
}

export const isPublicAddress = (address: string): boolean => {
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPublicAddress(mapped);
  const family = isIP(address);
  return family !== 0 && !BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

const safeLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses as unknown as LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || !list.length) return callback(new UnsafeUrlError(`${hostname} resolves to a non-public address`), '', 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

export interface PublicFetchOptions {
  maxBytes?: number;
  timeoutMs?: number;
  /** Tests only: lets a local server stand in for the internet. */
  allowAddress?: (address: string) => boolean;
}

export async function fetchPublic(url: string, options: PublicFetchOptions = {}, redirects = 3): Promise<{ data: Buffer; contentType?: string }> {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new UnsafeUrlError(`only http(s) URLs are fetched, not ${target.protocol}`);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isPublicAddress(host) && !options.allowAddress?.(host)) throw new UnsafeUrlError(`${host} is not a public address`);
  const lookup: LookupFunction = options.allowAddress
    ? (hostname, o, cb) => dnsLookup(hostname, o, cb as never)
    : safeLookup;
  return new Promise((resolve, reject) => {
    const request = (target.protocol === 'https:' ? https : http).get(target, { lookup, timeout: options.timeoutMs ?? 15_000 }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (redirects <= 0) return reject(new UnsafeUrlError('too many redirects'));
        return resolve(fetchPublic(new URL(response.headers.location, target).toString(), options, redirects - 1));
      }
      if (status !== 200) {
        response.resume();
        return reject(new Error(`image download failed: HTTP ${status}`));
      }
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        response.destroy();
        return reject(new UnsafeUrlError(`image of ${declared} bytes is over the ${maxBytes}-byte limit`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          response.destroy();
          reject(new UnsafeUrlError(`image is over the ${maxBytes}-byte limit`));
        } else chunks.push(chunk);
      });
      response.on('end', () => resolve({ data: Buffer.concat(chunks), contentType: response.headers['content-type']?.split(';')[0] }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('image download took too long')));
    request.on('error', reject);
  });
}

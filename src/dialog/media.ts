import type { Inbound } from './types.js';

/**
 * A photo is downloaded before the message's transaction opens, so a slow platform download never
 * holds the conversation's lock or a pooled connection, and a retried transaction does not download
 * again. A failed or timed-out download is handed to the flows as a `load()` that rejects, so they
 * answer it as before ("send the photo again").
 */
export function preloadMedia(inbound: Inbound, timeoutMs: number): Inbound | Promise<Inbound> {
  return inbound.kind === 'photo' ? downloadPhoto(inbound, timeoutMs) : inbound;
}

async function downloadPhoto(inbound: Inbound & { kind: 'photo' }, timeoutMs: number): Promise<Inbound> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`photo download took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  const settled = await Promise.race([inbound.media.load(), timeout]).then(
    (bytes) => ({ ok: true as const, bytes }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  clearTimeout(timer);
  const load = settled.ok ? async () => settled.bytes : async () => Promise.reject(settled.error);
  return { ...inbound, media: { ...inbound.media, load } };
}

/**
 * Bytes for `Outbound.image`: a media-store key (receipt photos, reward pictures) or a URL.
 */
import type { Outbound } from '../../dialog/types.js';
import { fetchPublic, type PublicFetchOptions } from '../public-fetch.js';

export interface ImageBytes {
  data: Buffer;
  mimeType: string;
  fileName?: string;
}

export type ImageLoader = (image: NonNullable<Outbound['image']>) => Promise<ImageBytes>;

/** Guesses an image type from its first bytes (the media store keeps bytes only). */
export function sniffImageType(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]))) return 'image/png';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (bytes.subarray(0, 3).toString('latin1') === 'GIF') return 'image/gif';
  return 'application/octet-stream';
}

/** `Outbound.image` bytes: a media-store key, else the URL. */
export function imageLoader(getMedia: (key: string) => Promise<Buffer | null | undefined>, fetchOptions: PublicFetchOptions = {}): ImageLoader {
  return async (image) => {
    if (image.mediaKey) {
      const data = await getMedia(image.mediaKey);
      if (!data) throw new Error('image not found in the media store');
      return { data, mimeType: sniffImageType(data) };
    }
    if (!image.url) throw new Error('image without url or mediaKey');
    // A manager's URL, fetched from the server: never towards its own network (see public-fetch).
    const { data, contentType } = await fetchPublic(image.url, { maxBytes: 5 * 1024 * 1024, timeoutMs: 15_000, ...fetchOptions });
    return { data, mimeType: contentType ?? sniffImageType(data) };
  };
}

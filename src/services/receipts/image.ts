import sharp from 'sharp';
import type { Metadata } from 'sharp';

/**
 * Checks on an uploaded photo before it is stored, and its perceptual hash. Only the header is
 * read for the checks (sharp's metadata), so a 50-megapixel bomb is refused without decoding it.
 */
export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
  /** Smaller than this on the short side cannot show a readable receipt. */
  minSide: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 15 * 1024 * 1024, maxPixels: 40_000_000, minSide: 200 };

export type ImageCheck =
  | { ok: true; mimeType: string; ext: string; width: number; height: number }
  | { ok: false; reason: 'too_large' | 'too_many_pixels' | 'too_small' | 'not_an_image' | 'corrupt' };

const FORMATS: Record<string, { mime: string; ext: string }> = {
  jpeg: { mime: 'image/jpeg', ext: 'jpg' },
  png: { mime: 'image/png', ext: 'png' },
  webp: { mime: 'image/webp', ext: 'webp' },
  heif: { mime: 'image/heic', ext: 'heic' },
  tiff: { mime: 'image/tiff', ext: 'tiff' },
  gif: { mime: 'image/gif', ext: 'gif' },
};

export async function checkImage(bytes: Buffer, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<ImageCheck> {
  if (bytes.length > limits.maxBytes) return { ok: false, reason: 'too_large' };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    return { ok: false, reason: 'not_an_image' };
  }
  const format = meta.format ? FORMATS[meta.format] : undefined;
  if (!format || !meta.width || !meta.height) return { ok: false, reason: 'not_an_image' };
  if (meta.width * meta.height > limits.maxPixels) return { ok: false, reason: 'too_many_pixels' };
  // EXIF orientations 5–8 swap width and height; the short side is the same either way.
  if (Math.min(meta.width, meta.height) < limits.minSide) return { ok: false, reason: 'too_small' };
  try {
    // A truncated or corrupt file passes the header check; decoding a tiny thumbnail catches it.
    await sharp(bytes, { failOn: 'truncated', limitInputPixels: limits.maxPixels }).resize(16, 16).raw().toBuffer();
  } catch {
    return { ok: false, reason: 'corrupt' };
  }
  const swapped = (meta.orientation ?? 1) >= 5;
  return {
    ok: true,
    mimeType: format.mime,
    ext: format.ext,
    width: swapped ? meta.height : meta.width,
    height: swapped ? meta.width : meta.height,
  };
}

/**
 * 64-bit difference hash (dHash): greyscale 9×8, one bit per horizontally adjacent pair. Returned
 * as 64 '0'/'1' characters (Postgres `bit(64)` literal). Robust to rescaling and re-compression,
 * not to cropping or rotation: a hint for "the same photo sent again", never proof.
 */
export async function differenceHash(bytes: Buffer): Promise<string> {
  const pixels = await sharp(bytes, { failOn: 'none' })
    .rotate()
    .greyscale()
    .resize(9, 8, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  let bits = '';
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) bits += pixels[y * 9 + x]! < pixels[y * 9 + x + 1]! ? '1' : '0';
  }
  return bits;
}

export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) d++;
  return d + Math.abs(a.length - b.length);
}

/**
 * The photo as it is stored: one that carries metadata (EXIF GPS position, names, device; XMP,
 * IPTC, comments), which moderators and signed links would otherwise serve back, is turned upright
 * and re-encoded without it; one without any is stored as it came.
 * JPEG, PNG and WebP keep their format (JPEG and WebP at quality 95, so a QR stays readable);
 * other formats become JPEG.
 */
export async function withoutMetadata(
  bytes: Buffer,
  limits: Pick<ImageLimits, 'maxPixels'> = DEFAULT_IMAGE_LIMITS,
): Promise<{ bytes: Buffer; mimeType: string; ext: string; width: number; height: number }> {
  const image = sharp(bytes, { limitInputPixels: limits.maxPixels }).rotate();
  const meta = await image.metadata();
  const { format } = meta;
  // Nothing to remove: stored byte for byte (no re-encoding, the file the sender sent).
  if (!meta.exif && !meta.xmp && !meta.iptc && !meta.comments?.length && format && FORMATS[format]) {
    return { bytes, mimeType: FORMATS[format]!.mime, ext: FORMATS[format]!.ext, width: meta.autoOrient?.width ?? meta.width!, height: meta.autoOrient?.height ?? meta.height! };
  }
  const out =
    format === 'png' ? image.png() : format === 'webp' ? image.webp({ quality: 95 }) : image.jpeg({ quality: 95, mozjpeg: false });
  const { data, info } = await out.toBuffer({ resolveWithObject: true });
  const kind = format === 'png' || format === 'webp' ? FORMATS[format]! : FORMATS.jpeg!;
  return { bytes: data, mimeType: kind.mime, ext: kind.ext, width: info.width, height: info.height };
}

// One cached response body with its precompressed variants and every header array precomputed,
// so answering from the cache is a lookup and a write.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { isCompressible } from './content-types.js';
import type { Encoding } from './negotiate.js';

/** One representation of a cached file: body, ETag and the header arrays for 200 and 304. */
export interface Variant {
  body: Buffer;
  etag: string;
  /** Flat [name, value, ...] headers of a 200 answer. */
  ok: string[];
  /** Flat headers of a 304 answer. */
  notModified: string[];
}

/** A cached file: the identity variant, and gzip/brotli ones when they are worth it. */
export interface CacheEntry {
  identity: Variant;
  gzip?: Variant;
  br?: Variant;
  /** Memory held: bodies of every variant. */
  bytes: number;
  /** Set on every hit; the eviction clock clears it (second chance). */
  hot: boolean;
}

/** Files smaller than this are not compressed (the headers outweigh the saving). */
export const MIN_COMPRESS_BYTES = 256;
const BROTLI_MAX_QUALITY_BYTES = 128 * 1024;

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** The content hash an ETag is made of (27 characters of base64url SHA-256). */
export function contentHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 27);
}

/** The strong ETag of one encoding of a body with hash `hash`. */
export function etagOf(hash: string, encoding: Encoding): string {
  return encoding === 'identity' ? `"${hash}"` : `"${hash}-${encoding === 'gzip' ? 'gz' : 'br'}"`;
}

/** Builds a cache entry for `body`: hashes it, compresses it when that helps, precomputes headers. */
export async function buildEntry(
  body: Buffer,
  contentType: string,
  securityHeaders: readonly string[],
  cacheControl = 'no-cache',
): Promise<CacheEntry> {
  const hash = contentHash(body);
  let gz: Buffer | undefined;
  let br: Buffer | undefined;
  if (body.length >= MIN_COMPRESS_BYTES && isCompressible(contentType)) {
    const quality = body.length <= BROTLI_MAX_QUALITY_BYTES ? 11 : 6;
    [gz, br] = await Promise.all([
      gzip(body, { level: 9 }),
      brotli(body, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
    ]);
    const worth = body.length * 0.9;
    if (gz.length > worth) gz = undefined;
    if (br.length > worth) br = undefined;
  }
  const negotiated = gz !== undefined || br !== undefined;
  const make = (data: Buffer, encoding: Encoding): Variant => {
    const etag = etagOf(hash, encoding);
    const common = ['ETag', etag, 'Cache-Control', cacheControl];
    if (negotiated) common.push('Vary', 'Accept-Encoding');
    common.push(...securityHeaders);
    const ok = ['Content-Type', contentType, 'Content-Length', String(data.length), ...common];
    if (encoding !== 'identity') ok.push('Content-Encoding', encoding);
    return { body: data, etag, ok, notModified: common };
  };
  const entry: CacheEntry = {
    identity: make(body, 'identity'),
    bytes: body.length + (gz?.length ?? 0) + (br?.length ?? 0),
    hot: false,
  };
  if (gz) entry.gzip = make(gz, 'gzip');
  if (br) entry.br = make(br, 'br');
  return entry;
}

/** The variant to send for the client's accepted encodings (best first). */
export function pickVariant(entry: CacheEntry, accepted: readonly Encoding[]): Variant {
  for (const encoding of accepted) {
    if (encoding === 'br' && entry.br) return entry.br;
    if (encoding === 'gzip' && entry.gzip) return entry.gzip;
  }
  return entry.identity;
}

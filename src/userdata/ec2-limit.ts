// EC2's user-data limit: gzip when needed (cloud-init decompresses it), refuse when it cannot fit.
import { gzipSync } from 'node:zlib';
import { GitstrapError } from '../lib/errors.js';

/** The most raw user-data bytes EC2 accepts (before its base64 encoding). */
export const EC2_USER_DATA_LIMIT = 16_384;

export interface PackedUserData {
  body: Buffer;
  gzipped: boolean;
  /** Bytes of the uncompressed text. */
  rawBytes: number;
  /** Bytes of the text gzipped (whether or not the body is). */
  gzippedBytes: number;
  /** Bytes of the body. */
  bytes: number;
}

/** The body to send: gzipped when asked, or ('auto') only when the text is over the limit. */
export function packUserData(text: string, gzip: boolean | 'auto' = 'auto'): PackedUserData {
  const raw = Buffer.from(text, 'utf8');
  // mtime 0 and no file name in the header (Node's default): the same text gives the same bytes.
  const compressed = gzipSync(raw, { level: 9 });
  const useGzip = gzip === true || (gzip === 'auto' && raw.length > EC2_USER_DATA_LIMIT);
  const body = useGzip ? compressed : raw;
  const sizes = { rawBytes: raw.length, gzippedBytes: compressed.length, bytes: body.length };
  if (body.length > EC2_USER_DATA_LIMIT) {
    throw new GitstrapError(
      useGzip
        ? `the user-data is ${fmt(compressed.length)} bytes even gzipped (${fmt(raw.length)} raw); EC2 accepts at most ${fmt(EC2_USER_DATA_LIMIT)}`
        : `the user-data is ${fmt(raw.length)} bytes; EC2 accepts at most ${fmt(EC2_USER_DATA_LIMIT)}`,
      {
        hint: useGzip
          ? 'shorten the recipe: long shell install steps, descriptions and key lists belong in the service repo (e.g. run: [sh, scripts/install.sh])'
          : 'let it be gzipped (leave gzip on auto), or shorten the recipe',
      },
    );
  }
  return { body, gzipped: useGzip, ...sizes };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

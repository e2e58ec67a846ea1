// Answering a body the fast path will not keep (a rendered page larger than the cache's file
// limit): the same headers as a cached answer (strong ETag from its hash, no-cache, 304 on
// If-None-Match, HEAD), with only the encoding this client prefers compressed, for this answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { contentHash, etagOf, MIN_COMPRESS_BYTES } from './cache-entry.js';
import { isCompressible } from './content-types.js';
import { acceptedEncodings, matchesEtag, type Encoding } from './negotiate.js';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);
/** Brotli quality for a body compressed on every answer: fast, still well below gzip's size. */
const BROTLI_QUALITY = 5;

/** Sends `body` as a 200 (or a 304) without caching it. */
export async function sendUncached(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  contentType: string,
  securityHeaders: readonly string[],
): Promise<void> {
  const negotiated = body.length >= MIN_COMPRESS_BYTES && isCompressible(contentType);
  const encoding: Encoding = negotiated
    ? (acceptedEncodings(req.headers['accept-encoding'])[0] ?? 'identity')
    : 'identity';
  const etag = etagOf(contentHash(body), encoding);
  const common = ['ETag', etag, 'Cache-Control', 'no-cache'];
  if (negotiated) common.push('Vary', 'Accept-Encoding');
  common.push(...securityHeaders);
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, etag, req.headers['cache-control'])) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const data = await encode(body, encoding);
  const ok = ['Content-Type', contentType, 'Content-Length', String(data.length), ...common];
  if (encoding !== 'identity') ok.push('Content-Encoding', encoding);
  res.writeHead(200, ok);
  res.end(req.method === 'HEAD' ? undefined : data);
}

function encode(body: Buffer, encoding: Encoding): Promise<Buffer> {
  if (encoding === 'gzip') return gzip(body);
  if (encoding === 'br') {
    return brotli(body, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    });
  }
  return Promise.resolve(body);
}

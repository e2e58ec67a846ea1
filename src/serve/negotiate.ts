// Content negotiation for cached files: which encoding a client accepts (negotiator), and whether
// its conditional headers let us answer 304 (fresh). Both are the libraries Express uses.
import fresh from 'fresh';
import Negotiator from 'negotiator';

/** An encoding the cache may hold a file in. */
export type Encoding = 'identity' | 'gzip' | 'br';

const OFFERED = ['br', 'gzip'] as const;

/**
 * The encodings a client accepts, best first ("br", "gzip"), from its Accept-Encoding header:
 * q-values first, brotli before gzip when they tie. negotiator parses the header; the answer is
 * memoised per header value, since browsers send a handful of distinct values and the fast path
 * asks on every request (the library would cost a parse and a sort each time).
 */
export function acceptedEncodings(header: string | undefined): readonly Encoding[] {
  if (!header) return NONE;
  const cached = memo.get(header);
  if (cached) return cached;
  const negotiator = new Negotiator({ headers: { 'accept-encoding': header } });
  const result = negotiator.encodings(OFFERED, { preferred: OFFERED }) as Encoding[];
  // x-gzip, an old name of gzip, counts only when the client names it.
  if (!result.includes('gzip') && /x-gzip/i.test(header) && negotiator.encodings(['x-gzip']).length)
    result.push('gzip');
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(header, result);
  return result;
}

/**
 * True when the request's If-None-Match names `etag` (weak comparison, as RFC 9110 asks; a list or
 * `*`), judged by fresh; a request with `Cache-Control: no-cache` is never answered 304 (a forced
 * reload). An If-None-Match equal to the ETag, without Cache-Control (what wrk and most
 * revalidations send), is answered without parsing a list.
 */
export function matchesEtag(ifNoneMatch: string, etag: string, cacheControl?: string): boolean {
  if (ifNoneMatch === etag && cacheControl === undefined) return true;
  return fresh(
    cacheControl === undefined
      ? { 'if-none-match': ifNoneMatch }
      : { 'if-none-match': ifNoneMatch, 'cache-control': cacheControl },
    { etag },
  );
}

const NONE: readonly Encoding[] = [];
const MEMO_LIMIT = 256;
const memo = new Map<string, readonly Encoding[]>();

// Content negotiation for cached files: which encoding a client accepts, and whether its
// If-None-Match names the representation we have.

/** An encoding the cache may hold a file in. */
export type Encoding = 'identity' | 'gzip' | 'br';

/** The encodings a client accepts, best first ("br", "gzip"), from its Accept-Encoding header. */
export function acceptedEncodings(header: string | undefined): readonly Encoding[] {
  if (!header) return NONE;
  const cached = memo.get(header);
  if (cached) return cached;
  let br = false;
  let gzip = false;
  let any = false;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';');
    const token = name.trim().toLowerCase();
    const q = params
      .map((p) => p.trim().toLowerCase())
      .find((p) => p.startsWith('q='))
      ?.slice(2);
    const allowed = q === undefined || Number(q) > 0;
    if (token === 'br') br = allowed;
    else if (token === 'gzip' || token === 'x-gzip') gzip = allowed;
    else if (token === '*') any = allowed;
  }
  const explicit = new Set(
    header.split(',').map((p) => (p.split(';')[0] ?? '').trim().toLowerCase()),
  );
  if (any && !explicit.has('br')) br = true;
  if (any && !explicit.has('gzip')) gzip = true;
  const result: Encoding[] = [];
  if (br) result.push('br');
  if (gzip) result.push('gzip');
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(header, result);
  return result;
}

/** True when an If-None-Match header matches `etag` (weak comparison, as RFC 9110 asks). */
export function matchesEtag(header: string, etag: string): boolean {
  if (header === etag) return true;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === '*') return true;
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

const NONE: readonly Encoding[] = [];
const MEMO_LIMIT = 256;
const memo = new Map<string, readonly Encoding[]>();

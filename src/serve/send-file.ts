// Streaming a file too large for the cache: conditional GET (ETag, Last-Modified), HEAD and single
// byte ranges, read from disk as it is sent. The ETag (etag), the 304 decision (fresh) and the
// Range header (range-parser) are the libraries Express's own file sending uses.
import { createReadStream, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import etag from 'etag';
import fresh from 'fresh';
import parseRangeHeader from 'range-parser';
import { contentTypeOf } from './content-types.js';
import { sendText } from './responses.js';

/** Sends the file at `file` (a real path already checked to be servable). */
export function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  info: Stats,
  securityHeaders: readonly string[],
): void {
  const tag = etag(info); // W/"SIZE-MTIME", both in hex
  const modified = new Date(Math.floor(info.mtimeMs / 1000) * 1000).toUTCString();
  const common = [
    'ETag',
    tag,
    'Last-Modified',
    modified,
    'Cache-Control',
    'no-cache',
    'Accept-Ranges',
    'bytes',
    ...securityHeaders,
  ];
  // If-None-Match (weak comparison), or else If-Modified-Since; never for Cache-Control: no-cache.
  if (fresh(req.headers, { etag: tag, 'last-modified': modified })) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  let start = 0;
  let end = info.size - 1;
  let status = 200;
  const extra: string[] = [];
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  if (range !== undefined && (ifRange === undefined || ifRange === tag || ifRange === modified)) {
    const parsed = parseRange(range, info.size);
    if (parsed === 'unsatisfiable') {
      sendText(res, securityHeaders, 416, undefined, ['Content-Range', `bytes */${info.size}`]);
      return;
    }
    if (parsed !== undefined) {
      [start, end] = parsed;
      status = 206;
      extra.push('Content-Range', `bytes ${start}-${end}/${info.size}`);
    }
  }
  res.writeHead(status, [
    'Content-Type',
    contentTypeOf(file),
    'Content-Length',
    String(info.size === 0 ? 0 : end - start + 1),
    ...extra,
    ...common,
  ]);
  if (req.method === 'HEAD' || info.size === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

/**
 * One byte range of a file of `size` bytes from a Range header (range-parser, overlapping ranges
 * combined): [start, end] inclusive; 'unsatisfiable' (a 416) when no range lies in the file;
 * undefined to ignore the header and send the whole file (malformed, not bytes, or several
 * ranges, which would need a multipart answer).
 */
export function parseRange(
  header: string,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  const ranges = parseRangeHeader(size, header, { combine: true });
  if (ranges === -1) {
    // range-parser drops a suffix longer than the file ("bytes=-500" of 100 bytes); RFC 9110
    // (14.1.2) makes it the whole file.
    const suffix = /^bytes=\s*-\s*(\d+)\s*$/.exec(header);
    return suffix && Number(suffix[1]) > 0 && size > 0 ? [0, size - 1] : 'unsatisfiable';
  }
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return undefined;
  const [range] = ranges;
  return range === undefined ? 'unsatisfiable' : [range.start, range.end];
}

// Streaming a file too large for the cache: conditional GET (ETag, Last-Modified), HEAD and single
// byte ranges, read from disk as it is sent.
import { createReadStream, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentTypeOf } from './content-types.js';
import { matchesEtag } from './negotiate.js';
import { sendText } from './responses.js';

/** Sends the file at `file` (a real path already checked to be servable). */
export function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  info: Stats,
  securityHeaders: readonly string[],
): void {
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const modified = new Date(Math.floor(info.mtimeMs / 1000) * 1000).toUTCString();
  const common = [
    'ETag',
    etag,
    'Last-Modified',
    modified,
    'Cache-Control',
    'no-cache',
    'Accept-Ranges',
    'bytes',
    ...securityHeaders,
  ];
  const inm = req.headers['if-none-match'];
  const ims = req.headers['if-modified-since'];
  if (
    (inm !== undefined && matchesEtag(inm, etag)) ||
    (inm === undefined && ims !== undefined && Date.parse(ims) >= Date.parse(modified))
  ) {
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
  if (range !== undefined && (ifRange === undefined || ifRange === etag || ifRange === modified)) {
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

/** One "bytes=a-b" range within `size`; undefined to ignore the header (multiple or malformed). */
export function parseRange(
  header: string,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

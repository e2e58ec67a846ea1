// The fast path in front of Express: GET/HEAD of hot static and data files (and rendered site
// pages) answered from memory with precomputed headers, strong ETags and 304s, and precompressed
// variants. A miss reads the file once (concurrent misses share the read) and caches it. A rendered
// page too large to cache is answered all the same, uncached; what the fast path cannot answer
// (folders, large or missing files) falls through to Express. Each give-up is logged, with why.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { buildEntry, pickVariant, type CacheEntry } from './cache-entry.js';
import type { Logger } from '../lib/log.js';
import type { Generation } from './generation.js';
import { contentTypeOf } from './content-types.js';
import { acceptedEncodings, matchesEtag } from './negotiate.js';
import { isUnder, segmentsOf } from './request-path.js';
import { resolveInside } from './resolve-file.js';
import { isTemplateFile, type SiteRenderer } from './site.js';
import type { Runtime } from './types.js';

/** Which tree a request path belongs to: the data mount, the service files, or a site page/asset. */
export type FileKind = 'data' | 'service' | 'site';

/** A failure the client should see as a status with a short text (503 not ready, 500 template error). */
export class ServeError extends Error {
  override name = 'ServeError';
  constructor(
    readonly status: 500 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** The file kind of `path` for this runtime, or undefined when files are not served there. */
export function fileKindOf(
  path: string,
  runtime: Runtime,
  mountPrefix: string | undefined,
): FileKind | undefined {
  if (mountPrefix !== undefined && isUnder(path, mountPrefix)) return 'data';
  if (runtime === 'static') return 'service';
  if (runtime === 'site') return 'site';
  return undefined;
}

/** The tree, segments and allowed real roots a file path maps to in a generation. */
export function treeOf(
  gen: Generation,
  path: string,
  kind: FileKind,
  mountPrefix: string | undefined,
): { root: string; segments: string[]; allowed: string[] } {
  if (kind === 'data') {
    if (gen.dataRoot === undefined) throw new ServeError(503, 'No data version is published yet.');
    return {
      root: gen.dataRoot,
      segments: segmentsOf(path.slice(mountPrefix?.length ?? 0)),
      allowed: [gen.dataRoot],
    };
  }
  if (gen.serviceRoot === undefined) throw new ServeError(503, 'The service is not ready yet.');
  const allowed = gen.dataRoot === undefined ? [gen.serviceRoot] : [gen.serviceRoot, gen.dataRoot];
  return { root: gen.serviceRoot, segments: segmentsOf(path), allowed };
}

export interface FillOptions {
  mountPrefix: string | undefined;
  maxFileBytes: number;
  securityHeaders: readonly string[];
  site: SiteRenderer;
  logger: Logger;
}

/** Why the fast path leaves a path to Express. */
export type PassReason =
  'missing' | 'folder' | 'template file' | 'refused symlink' | 'file larger than the cache limit';

/**
 * What the fast path does with a path: answer from a cache entry; answer a rendered page that is
 * too large to cache, rendered for each request; or leave it to Express, saying why.
 */
export type Fill =
  | { kind: 'entry'; entry: CacheEntry }
  | { kind: 'page'; body: Buffer; contentType: string }
  | { kind: 'pass'; reason: PassReason; bytes?: number };

const PAGE_TYPE = 'text/html; charset=utf-8';

/** Reads what `path` serves: a cache entry, an uncacheable page, or a pass to Express. */
export async function fillEntry(
  gen: Generation,
  path: string,
  kind: FileKind,
  options: FillOptions,
): Promise<Fill> {
  if (kind === 'site') {
    if (isTemplateFile(path)) return { kind: 'pass', reason: 'template file' };
    const root = treeOf(gen, path, kind, options.mountPrefix).root;
    if (gen.dataRoot === undefined) throw new ServeError(503, 'No data version is published yet.');
    let html: string | undefined;
    try {
      html = await options.site.render(root, gen.dataRoot, path);
    } catch (error) {
      throw new ServeError(500, (error as Error).message);
    }
    if (html !== undefined) {
      const body = Buffer.from(html);
      if (body.length > options.maxFileBytes) return { kind: 'page', body, contentType: PAGE_TYPE };
      return { kind: 'entry', entry: await buildEntry(body, PAGE_TYPE, options.securityHeaders) };
    }
  }
  const { root, segments, allowed } = treeOf(gen, path, kind, options.mountPrefix);
  if (path.endsWith('/')) segments.push('index.html');
  const found = await resolveInside(root, segments, allowed);
  if (found.kind === 'missing') return { kind: 'pass', reason: 'missing' };
  if (found.kind === 'refused') return { kind: 'pass', reason: 'refused symlink' };
  if (found.kind === 'dir') return { kind: 'pass', reason: 'folder' };
  const tooLarge = { kind: 'pass', reason: 'file larger than the cache limit' } as const;
  if (found.stat.size > options.maxFileBytes) return { ...tooLarge, bytes: found.stat.size };
  const body = await readFile(found.path);
  if (body.length > options.maxFileBytes) return { ...tooLarge, bytes: body.length };
  const entry = await buildEntry(body, contentTypeOf(found.path), options.securityHeaders);
  return { kind: 'entry', entry };
}

/**
 * Fills `path` once per generation even when many requests miss at the same time: caches an
 * entry, remembers a pass, and logs (once per generation) what it did not cache.
 */
export function fillShared(
  gen: Generation,
  path: string,
  kind: FileKind,
  options: FillOptions,
): Promise<Fill> {
  const pending = gen.filling.get(path);
  if (pending !== undefined) return pending;
  const filling = fillEntry(gen, path, kind, options).then(
    (fill) => {
      gen.filling.delete(path);
      if (fill.kind === 'entry') gen.cache.set(path, fill.entry);
      else if (fill.kind === 'pass') gen.pass(path);
      if (fill.kind !== 'entry' && gen.firstNotice(path)) logFill(options, path, fill);
      return fill;
    },
    (error: unknown) => {
      gen.filling.delete(path);
      throw error;
    },
  );
  gen.filling.set(path, filling);
  return filling;
}

function logFill(options: FillOptions, path: string, fill: Fill): void {
  const limit = options.maxFileBytes;
  if (fill.kind === 'page') {
    const reason = 'rendered page larger than the cache limit';
    options.logger.log('info', 'serve.not_cached', {
      path,
      reason,
      bytes: fill.body.length,
      limit,
    });
  } else if (fill.kind === 'pass' && fill.bytes !== undefined) {
    options.logger.log('info', 'serve.not_cached', {
      path,
      reason: fill.reason,
      bytes: fill.bytes,
      limit,
    });
  } else if (fill.kind === 'pass') {
    options.logger.log('debug', 'serve.fast_path_pass', { path, reason: fill.reason });
  }
}

/** Answers from a cache entry: 304 when If-None-Match matches, else the best encoding's body. */
export function serveEntry(req: IncomingMessage, res: ServerResponse, entry: CacheEntry): void {
  // The raw header list, scanned once: cheaper than building req.headers for three names.
  const raw = req.rawHeaders;
  let acceptEncoding: string | undefined;
  let ifNoneMatch: string | undefined;
  let cacheControl: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 15) {
      if (name.toLowerCase() === 'accept-encoding') acceptEncoding = raw[i + 1];
    } else if (name.length === 13) {
      const lower = name.toLowerCase();
      if (lower === 'if-none-match') ifNoneMatch = raw[i + 1];
      else if (lower === 'cache-control') cacheControl = raw[i + 1];
    }
  }
  const variant =
    entry.gzip === undefined && entry.br === undefined
      ? entry.identity
      : pickVariant(entry, acceptedEncodings(acceptEncoding));
  if (ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, variant.etag, cacheControl)) {
    res.writeHead(304, variant.notModified);
    res.end();
    return;
  }
  res.writeHead(200, variant.ok);
  res.end(req.method === 'HEAD' ? undefined : variant.body);
}

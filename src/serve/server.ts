// createAgentServer: the agent's HTTP server. Every request's path is checked first; then the
// agent's own paths go to Express, hot files are answered by the fast path, the service's other
// paths go to the proxy (process/node) or Express (folders, large files, the mounted app).
import { existsSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../lib/log.js';
import { AGENT_PREFIX, createExpressApp } from './app.js';
import { listenError } from './listen-error.js';
import { fileKindOf, fillShared, serveEntry, ServeError, type FileKind } from './fast-path.js';
import { Generations, type Generation } from './generation.js';
import { createProxy, type Proxy } from './proxy.js';
import { setRequestInfo } from './request-info.js';
import { checkRequestPath, isUnder } from './request-path.js';
import { sendText, statusLine } from './responses.js';
import {
  computeSecurityHeaders,
  DEFAULT_HELMET_OPTIONS,
  flattenHeaders,
} from './security-headers.js';
import { sendUncached } from './send-uncached.js';
import { SiteRenderer } from './site.js';
import { parseSize } from '../lib/size.js';
import type { AgentServer, AgentServerOptions } from './types.js';

const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** Creates the agent's HTTP server (not yet listening). */
export function createAgentServer(options: AgentServerOptions): AgentServer {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const securityPairs = computeSecurityHeaders(options.helmet ?? DEFAULT_HELMET_OPTIONS);
  const security = flattenHeaders(securityPairs);
  const maxBodyBytes = parseSize(options.maxBody ?? '1mb');
  const mountPrefix = options.dataMount
    ? `/${options.dataMount.replace(/^\/+|\/+$/g, '')}`
    : undefined;
  const generations = new Generations({
    serviceDir: options.serviceDir,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    maxBytes: options.cache?.maxBytes ?? DEFAULT_CACHE_BYTES,
    recheckMs: options.cache?.recheckMs ?? 1000,
  });
  const fill = {
    mountPrefix,
    maxFileBytes: options.cache?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    securityHeaders: security,
    site: new SiteRenderer(),
    logger,
  };
  const runtime = options.runtime;
  const proxyPort = options.proxyPort;
  const proxy: Proxy | undefined =
    (runtime === 'node' || runtime === 'process') &&
    options.app === undefined &&
    proxyPort !== undefined
      ? createProxy({
          port: typeof proxyPort === 'number' ? () => proxyPort : proxyPort,
          securityHeaders: securityPairs,
          maxBodyBytes,
          timeoutMs: options.proxyTimeoutMs ?? 60_000,
          logger,
        })
      : undefined;
  const app = createExpressApp({
    options,
    mountPrefix,
    securityPairs,
    securityHeaders: security,
    logger,
    now,
  });

  const toExpress = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    gen: Generation,
    kind: FileKind | undefined,
  ) => {
    setRequestInfo(req, { path, gen, kind });
    app(req, res);
  };

  const fillAndServe = async (
    req: IncomingMessage,
    res: ServerResponse,
    gen: Generation,
    path: string,
    kind: FileKind,
  ) => {
    try {
      let filled = await fillShared(gen, path, kind, fill);
      if (filled.kind === 'pass' && gen.dataRoot !== undefined && !existsSync(gen.dataRoot)) {
        // The version this generation serves was retired (pruned or recycled) under it:
        // answer from the version published now instead of a 404.
        generations.invalidate();
        gen = generations.current();
        const cached = gen.cache.get(path);
        filled = cached
          ? { kind: 'entry', entry: cached }
          : await fillShared(gen, path, kind, fill);
      }
      if (filled.kind === 'entry') return serveEntry(req, res, filled.entry);
      if (filled.kind === 'page') {
        return await sendUncached(req, res, filled.body, filled.contentType, security);
      }
    } catch (error) {
      if (error instanceof ServeError) {
        if (error.status === 500)
          logger.log('error', 'serve.render_failed', { path, error: error.message });
        return sendText(
          res,
          security,
          error.status,
          `${statusLine(error.status)}: ${error.message}`,
        );
      }
      logger.log('warn', 'serve.fill_failed', { path, error });
    }
    toExpress(req, res, path, gen, kind);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const checked = checkRequestPath(req.url ?? '');
    if (!checked.ok) {
      logger.log('debug', 'serve.refused', { url: req.url, reason: checked.reason });
      return sendText(res, security, checked.status);
    }
    const path = checked.path;
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') {
      const kind = fileKindOf(path, runtime, mountPrefix);
      if (kind !== undefined && !isUnder(path, AGENT_PREFIX)) {
        const gen = generations.current();
        const entry = gen.cache.get(path);
        if (entry !== undefined) return serveEntry(req, res, entry);
        if (!gen.passes.has(path)) return void fillAndServe(req, res, gen, path, kind);
        return toExpress(req, res, path, gen, kind);
      }
    } else if (declaredLength(req) > maxBodyBytes) {
      logger.log('warn', 'serve.body_too_large', { path, limit: options.maxBody ?? '1mb' });
      return sendText(res, security, 413, undefined, ['Connection', 'close']);
    }
    if (isUnder(path, AGENT_PREFIX))
      return toExpress(req, res, path, generations.current(), undefined);
    const kind = fileKindOf(path, runtime, mountPrefix);
    if (proxy !== undefined && kind === undefined) return proxy.forward(req, res);
    toExpress(req, res, path, generations.current(), kind);
  };

  const server = http.createServer(handle);
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  if (proxy !== undefined) {
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      const checked = checkRequestPath(req.url ?? '');
      if (
        !checked.ok ||
        isUnder(checked.path, AGENT_PREFIX) ||
        fileKindOf(checked.path, runtime, mountPrefix)
      ) {
        socket.end(
          `HTTP/1.1 ${statusLine(checked.ok ? 404 : checked.status)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
        return;
      }
      proxy.upgrade(req, socket, head);
    });
  }

  return {
    listen(port, host) {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host));
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const address = server.address() as AddressInfo;
          logger.log('info', 'serve.listening', {
            host: address.address,
            port: address.port,
            runtime,
          });
          resolve(address);
        });
      });
    },
    invalidate() {
      generations.invalidate();
    },
    close() {
      proxy?.close();
      return new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The request's Content-Length, or 0 when it has none (chunked bodies are counted as they come). */
function declaredLength(req: IncomingMessage): number {
  const value = req.headers['content-length'];
  return value === undefined ? 0 : Number(value) || 0;
}

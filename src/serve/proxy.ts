// The reverse proxy in front of a process/node service on 127.0.0.1:PORT, on node:http: bodies
// streamed both ways with a size limit, status and headers passed through (hop-by-hop ones
// dropped), X-Forwarded-* added, a 502 page when the service is down, WebSocket upgrades piped.
import http, {
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../lib/log.js';
import { sendHtml, sendText } from './responses.js';

export interface ProxyOptions {
  /** The service's port on 127.0.0.1, or undefined while it is not running. */
  port: () => number | undefined;
  /** Security headers as [name, value] pairs; the service's own headers of the same name win. */
  securityHeaders: ReadonlyArray<readonly [string, string]>;
  maxBodyBytes: number;
  timeoutMs: number;
  logger: Logger;
}

export interface Proxy {
  /** Forwards one request to the service. */
  forward(req: IncomingMessage, res: ServerResponse): void;
  /** Forwards an Upgrade request (WebSocket) by piping the raw sockets. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes kept-alive connections to the service. */
  close(): void;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Whether a request announces a body (Content-Length above 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** The headers to send upstream: the client's, minus hop-by-hop ones, plus X-Forwarded-*. */
export function forwardedHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const drop = connectionTokens(req.headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  const remote = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${remote}` : remote;
  out['x-forwarded-proto'] = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  if (req.headers.host !== undefined) out['x-forwarded-host'] = req.headers.host;
  return out;
}

/** Creates the proxy. */
export function createProxy(options: ProxyOptions): Proxy {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32 });
  const flatSecurity = options.securityHeaders.flatMap(([n, v]) => [n, v]);
  const log = options.logger;

  const down = (res: ServerResponse, status: 502 | 504, why: string) => {
    sendHtml(
      res,
      flatSecurity,
      status,
      status === 504 ? 'The service did not answer in time' : 'The service is not answering',
      `${why}. The agent keeps it running and restarts it when it stops; try again in a moment.`,
    );
  };

  /**
   * Forwards one request. A kept-alive connection the service closed just as it was reused fails
   * with ECONNRESET before any answer: a request without a body (GET, HEAD) is then sent once more
   * on a new connection instead of becoming a 502 (the race Node's docs describe for
   * `request.reusedSocket`).
   */
  const forward = (req: IncomingMessage, res: ServerResponse, retried = false) => {
    const port = options.port();
    if (port === undefined) {
      down(res, 502, 'The service is not running right now');
      return;
    }
    const upstream = http.request({
      host: '127.0.0.1',
      port,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req),
      agent,
      timeout: options.timeoutMs,
    });
    const bodyless = (req.method === 'GET' || req.method === 'HEAD') && !hasBody(req);
    let received = 0;
    let failed = false;
    const fail = (status: 413 | 502 | 504, why: string) => {
      if (failed) return;
      failed = true;
      upstream.destroy();
      if (status === 413) {
        log.log('warn', 'serve.body_too_large', { path: req.url, limit: options.maxBodyBytes });
        sendText(res, flatSecurity, 413, undefined, ['Connection', 'close']);
      } else {
        log.log('warn', 'serve.proxy_failed', { path: req.url, port, status, reason: why });
        down(res, status, why);
      }
    };
    if (bodyless) {
      req.resume();
      upstream.end();
    } else {
      req.on('data', (chunk: Buffer) => {
        if (failed) return;
        received += chunk.length;
        if (received > options.maxBodyBytes) {
          req.pause();
          fail(413, 'request body too large');
          return;
        }
        if (!upstream.write(chunk)) {
          req.pause();
          upstream.once('drain', () => req.resume());
        }
      });
      req.on('end', () => upstream.end());
    }
    const onClose = () => {
      if (!res.writableFinished) upstream.destroy();
    };
    res.on('close', onClose);
    upstream.on('timeout', () => fail(504, `No answer within ${options.timeoutMs} ms`));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (
        bodyless &&
        !retried &&
        !failed &&
        upstream.reusedSocket &&
        error.code === 'ECONNRESET' &&
        !res.headersSent &&
        !res.destroyed
      ) {
        failed = true;
        res.off('close', onClose);
        log.log('debug', 'serve.proxy_retry', { path: req.url, port });
        forward(req, res, true);
        return;
      }
      fail(502, error.code === 'ECONNREFUSED' ? 'Nothing listens on its port' : error.message);
    });
    upstream.on('response', (answer) => {
      if (failed) {
        answer.resume();
        return;
      }
      upstream.setTimeout(0); // answering: long streams (SSE, downloads) may idle as they like
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
  };

  const responseHeaders = (answer: IncomingMessage): OutgoingHttpHeaders => {
    const drop = connectionTokens(answer.headers.connection);
    const out: OutgoingHttpHeaders = {};
    for (const [name, value] of options.securityHeaders) out[name.toLowerCase()] = value;
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name)) continue;
      out[name] = value;
    }
    return out;
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const port = options.port();
    socket.on('error', () => socket.destroy());
    if (port === undefined) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    upstream.setTimeout(options.timeoutMs, () => upstream.destroy());
    upstream.on('error', () => {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    upstream.on('connect', () => {
      upstream.setTimeout(0);
      const headers = forwardedHeaders(req);
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      headers.connection = 'Upgrade';
      if (req.headers.upgrade !== undefined) headers.upgrade = req.headers.upgrade;
      for (const [name, value] of Object.entries(headers)) {
        for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
  };

  return { forward, upgrade, close: () => agent.destroy() };
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  if (value === undefined) return new Set();
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

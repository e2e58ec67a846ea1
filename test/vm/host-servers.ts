// Servers a test VM reaches on the host: everything binds 127.0.0.1, which the guest sees as
// 10.0.2.2 through QEMU's user network. A small HTTP file server (for the agent bundle the
// user-data installs by URL and sha256) and the URL rewriting from the host's view to the guest's.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

/** The host's loopback as the guest sees it (QEMU user network). */
export const HOST_FROM_GUEST = '10.0.2.2';

/** Rewrites a URL on 127.0.0.1 (the host's view) to the same server as the guest reaches it. */
export function toGuestUrl(hostUrl: string): string {
  const url = new URL(hostUrl);
  if (url.hostname !== '127.0.0.1') {
    throw new Error(`expected a URL on 127.0.0.1 (a host-side test server), got ${hostUrl}`);
  }
  url.hostname = HOST_FROM_GUEST;
  return url.toString();
}

/** One request the file server answered. */
export interface ServedRequest {
  method: string;
  path: string;
  status: number;
}

export interface FileServer {
  port: number;
  /** http://10.0.2.2:PORT/NAME: the file as the guest fetches it. */
  guestUrl: (name: string) => string;
  /** http://127.0.0.1:PORT/NAME: the file as the host fetches it. */
  hostUrl: (name: string) => string;
  /** The sha256 (hex) of a served file. */
  sha256: (name: string) => string;
  /** Every request so far, in order. */
  requests: ServedRequest[];
  stop: () => Promise<void>;
}

/**
 * Serves exactly the given files (URL name → host file path or content) on 127.0.0.1, GET and HEAD
 * only; every other path is a 404. Stopped after the test `t`.
 */
export async function startFileServer(
  t: Pick<TestContext, 'after'>,
  files: Record<string, string | Buffer>,
): Promise<FileServer> {
  const contents = new Map<string, Buffer>();
  for (const [name, source] of Object.entries(files)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new Error(`expected a plain file name to serve, got ${JSON.stringify(name)}`);
    }
    contents.set(name, typeof source === 'string' ? readFileSync(source) : source);
  }
  const requests: ServedRequest[] = [];
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]?.slice(1) ?? '';
    const body = contents.get(name);
    const status = req.method !== 'GET' && req.method !== 'HEAD' ? 405 : body ? 200 : 404;
    requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    if (status !== 200 || !body) {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`${status}\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      stopped = true;
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(stop);
  const hostUrl = (name: string) => `http://127.0.0.1:${port}/${name}`;
  return {
    port,
    hostUrl,
    guestUrl: (name) => toGuestUrl(hostUrl(name)),
    sha256: (name) => {
      const body = contents.get(name);
      if (!body) throw new Error(`the file server does not serve ${name}`);
      return createHash('sha256').update(body).digest('hex');
    },
    requests,
    stop,
  };
}

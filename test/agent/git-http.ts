// Private repos over HTTP for tests: `git http-backend` (git's own smart-HTTP server, run as CGI)
// behind a small node:http server on 127.0.0.1 that answers 401 unless the request carries the
// expected Authorization header.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { serveGitHttpBackend } from '../helpers/git-lfs-server.js';

export interface GitHttpServer {
  /** http://127.0.0.1:PORT/NAME for a repository folder NAME under the root. */
  url: (name: string) => string;
  /** Authorization headers seen, one per request. */
  seen: Array<string | undefined>;
}

/** Serves the repositories under `root`, requiring `authorization` on every request. */
export async function startGitHttp(
  t: Pick<TestContext, 'after'>,
  root: string,
  authorization: string,
): Promise<GitHttpServer> {
  const seen: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== authorization) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('unauthorized\n');
      req.resume();
      return;
    }
    serveGitHttpBackend(root, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: (name) => `http://127.0.0.1:${port}/${name}`, seen };
}

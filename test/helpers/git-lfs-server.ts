// A git host with Git LFS for tests, on 127.0.0.1: git smart HTTP (`git http-backend`, git's own
// server, run as CGI) and the Git LFS API as git-lfs/git-lfs docs/api/batch.md and
// basic-transfers.md state it: `POST {repo}.git/info/lfs/objects/batch` with
// `Accept: application/vnd.git-lfs+json` (406 otherwise), `{operation, transfers?, ref?, objects:
// [{oid, size}]}` answered 200 with `{transfer: "basic", objects}` where each object carries
// `actions.download {href, expires_in}` or a per-object `error {code: 404}`; the basic transfer is
// a GET of that href. Every request is logged, so a test can tell what was asked and downloaded.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './tmp.js';

const LFS_TYPE = 'application/vnd.git-lfs+json';

/** One request the server answered. */
export interface LfsRequest {
  method: string;
  path: string;
  status: number;
  /** The Authorization header it came with. */
  authorization?: string;
  /** For a batch request: its operation and the oids it asked for. */
  operation?: string;
  oids?: string[];
}

export interface GitLfsServer {
  /** http://127.0.0.1:PORT/NAME: a repository folder NAME under the root, over smart HTTP. */
  url: (name: string) => string;
  /** Every request answered, in order. */
  requests: LfsRequest[];
  /** The oids whose content was sent (basic transfer GETs answered 200), in order. */
  downloaded: () => string[];
  /** The oids asked for in batch requests, in order. */
  batched: () => string[];
  /** Stores every object of a repository's local LFS store (.git/lfs/objects) on the server. */
  storeFrom: (repo: string) => string[];
  /** Stores one object; returns its oid. */
  store: (content: Buffer) => string;
  /** Deletes an object from the server (to make it missing). */
  remove: (oid: string) => void;
}

/** Serves the repositories under `root` and an LFS store; `authorization`, when given, is required. */
export async function startGitLfsServer(
  t: Pick<TestContext, 'after'>,
  root: string,
  options: { authorization?: string } = {},
): Promise<GitLfsServer> {
  const objects = tempDir(t, 'gitstrap-lfs-store-');
  const requests: LfsRequest[] = [];
  const objectFile = (oid: string) => path.join(objects, oid.slice(0, 2), oid.slice(2, 4), oid);
  let base = '';

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: LfsRequest = {
      method: req.method ?? '',
      path: url.pathname,
      status: 0,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    };
    requests.push(entry);
    const answer = (status: number, headers: http.OutgoingHttpHeaders, body: string | Buffer) => {
      entry.status = status;
      res.writeHead(status, headers).end(body);
    };
    const json = (status: number, value: unknown, extra: http.OutgoingHttpHeaders = {}) =>
      answer(status, { 'Content-Type': LFS_TYPE, ...extra }, JSON.stringify(value));
    if (
      options.authorization !== undefined &&
      req.headers.authorization !== options.authorization
    ) {
      req.resume();
      if (url.pathname.includes('/info/lfs/')) {
        json(
          401,
          { message: 'Credentials needed' },
          { 'LFS-Authenticate': 'Basic realm="Git LFS"' },
        );
      } else {
        answer(401, { 'WWW-Authenticate': 'Basic realm="git"' }, 'unauthorized\n');
      }
      return;
    }
    if (/\/info\/lfs\/objects\/batch$/.test(url.pathname)) {
      if (req.method !== 'POST') return json(405, { message: 'POST only' });
      if (!String(req.headers.accept ?? '').includes(LFS_TYPE)) {
        req.resume();
        return json(406, { message: `the Accept header needs to be ${LFS_TYPE}` });
      }
      readBody(req).then(
        (body) => {
          let request: { operation?: unknown; transfers?: unknown; objects?: unknown };
          try {
            request = JSON.parse(body.toString('utf8')) as typeof request;
          } catch {
            return json(400, { message: 'invalid JSON' });
          }
          const list = Array.isArray(request.objects) ? request.objects : undefined;
          entry.operation = String(request.operation);
          if (
            !list ||
            !list.every(
              (o: { oid?: unknown; size?: unknown }) =>
                typeof o.oid === 'string' &&
                /^[0-9a-f]{64}$/.test(o.oid) &&
                Number.isInteger(o.size) &&
                (o.size as number) >= 0,
            )
          ) {
            return json(422, { message: 'objects must be [{oid, size}] with sha256 oids' });
          }
          const wanted = list as Array<{ oid: string; size: number }>;
          entry.oids = wanted.map((o) => o.oid);
          if (request.operation !== 'download') {
            return json(501, { message: 'this test server only serves downloads' });
          }
          if (Array.isArray(request.transfers) && !request.transfers.includes('basic')) {
            return json(422, { message: 'only the basic transfer adapter is served' });
          }
          json(200, {
            transfer: 'basic',
            objects: wanted.map(({ oid, size }) => {
              const file = objectFile(oid);
              if (!existsSync(file)) {
                return { oid, size, error: { code: 404, message: 'Object does not exist' } };
              }
              if (readFileSync(file).length !== size) {
                return { oid, size, error: { code: 422, message: 'size does not match' } };
              }
              return {
                oid,
                size,
                authenticated: true,
                actions: { download: { href: `${base}/lfs-objects/${oid}`, expires_in: 3600 } },
              };
            }),
          });
        },
        (error: Error) => json(400, { message: error.message }),
      );
      return;
    }
    const object = /^\/lfs-objects\/([0-9a-f]{64})$/.exec(url.pathname);
    if (object) {
      req.resume();
      const file = objectFile(object[1]!);
      if (req.method !== 'GET' || !existsSync(file)) {
        return answer(404, { 'Content-Type': 'text/plain' }, 'no such object\n');
      }
      const content = readFileSync(file);
      entry.oids = [object[1]!];
      return answer(
        200,
        { 'Content-Type': 'application/octet-stream', 'Content-Length': content.length },
        content,
      );
    }
    serveGitHttpBackend(root, req, res, (status) => (entry.status = status));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  const store = (content: Buffer) => {
    const oid = createHash('sha256').update(content).digest('hex');
    const file = objectFile(oid);
    mkdirSync(path.dirname(file), { recursive: true });
    if (!existsSync(file)) writeObject(file, content);
    return oid;
  };
  return {
    url: (name) => `${base}/${name}`,
    requests,
    downloaded: () =>
      requests
        .filter((r) => r.method === 'GET' && r.path.startsWith('/lfs-objects/') && r.status === 200)
        .flatMap((r) => r.oids ?? []),
    batched: () => requests.flatMap((r) => (r.operation ? (r.oids ?? []) : [])),
    store,
    storeFrom(repo) {
      const local = path.join(repo, '.git', 'lfs', 'objects');
      const stored: string[] = [];
      const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, e.name);
          if (e.isDirectory()) walk(full);
          else if (/^[0-9a-f]{64}$/.test(e.name)) {
            const file = objectFile(e.name);
            mkdirSync(path.dirname(file), { recursive: true });
            copyFileSync(full, file);
            stored.push(e.name);
          }
        }
      };
      if (existsSync(local)) walk(local);
      return stored.sort();
    },
    remove: (oid) => rmSync(objectFile(oid), { force: true }),
  };
}

/** Writes an object through a temporary name: a concurrent GET never sees half of it. */
function writeObject(file: string, content: Buffer): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Answers one git smart-HTTP request with `git http-backend` (CGI) for the repositories under
 * `root`; `onStatus` learns the status it answered with.
 */
export function serveGitHttpBackend(
  root: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  onStatus: (status: number) => void = () => undefined,
): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      ...(req.headers['content-encoding']
        ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }
        : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  req.pipe(child.stdin);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.on('close', () => {
    const out = Buffer.concat(chunks);
    const end = out.indexOf('\r\n\r\n');
    const head = out.subarray(0, end).toString();
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const [name, ...rest] = line.split(':');
      const value = rest.join(':').trim();
      if (name?.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
      else if (name) headers[name] = value;
    }
    onStatus(status);
    res.writeHead(status, headers).end(out.subarray(end + 4));
  });
}

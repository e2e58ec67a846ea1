// Helpers for the serve tests: served trees laid out as the agent lays them out (a service checkout,
// data versions and a `current` symlink swapped by rename), a real agent server on a loopback port,
// and HTTP clients that send exactly the path given (node:http, and raw sockets for paths a client
// library would normalise).
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { writeFiles } from '../helpers/git.js';
import { freePort, startProcess, waitForPort, type Started } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { createAgentServer } from '../../src/serve/index.js';
import type { AgentServer, AgentServerOptions, StatusData } from '../../src/serve/index.js';

/** A state root with a service checkout and published data versions. */
export interface Trees {
  root: string;
  /** The served service folder (checkout root). */
  service: string;
  /** STATE/data/current, the symlink the agent serves. */
  dataCurrent: string;
  /** Publishes a new data version `id` with `files` by an atomic symlink swap; returns its folder. */
  publish(id: string, files: Record<string, string | Buffer>): string;
}

/** Lays out a service checkout with `serviceFiles` and a first data version "v1" with `dataFiles`. */
export function makeTrees(
  t: Pick<TestContext, 'after'>,
  serviceFiles: Record<string, string | Buffer>,
  dataFiles?: Record<string, string | Buffer>,
): Trees {
  const root = tempDir(t, 'gitstrap-serve-');
  const service = path.join(root, 'service', 'c0ffee');
  mkdirSync(service, { recursive: true });
  writeFiles(service, serviceFiles);
  const data = path.join(root, 'data');
  mkdirSync(path.join(data, 'versions'), { recursive: true });
  const dataCurrent = path.join(data, 'current');
  const publish = (id: string, files: Record<string, string | Buffer>) => {
    const dir = path.join(data, 'versions', id);
    mkdirSync(dir, { recursive: true });
    writeFiles(dir, files);
    const next = path.join(data, `.current-${id}`);
    symlinkSync(path.join('versions', id), next);
    renameSync(next, dataCurrent);
    return dir;
  };
  if (dataFiles) publish('v1', dataFiles);
  return { root, service, dataCurrent, publish };
}

/** A plausible status, as the agent reports it. */
export function sampleStatus(overrides: Partial<StatusData> = {}): StatusData {
  return {
    recipe: { name: 'open-qa', description: 'Open QA dashboard', runtime: 'static' },
    service: {
      repo: 'git://127.0.0.1/service',
      ref: 'main',
      commit: '1111111111111111111111111111111111111111',
      state: 'running',
    },
    data: {
      repo: 'git://127.0.0.1/data',
      ref: 'main',
      mount: 'webcache',
      commit: '2222222222222222222222222222222222222222',
      history: [],
    },
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    ...overrides,
  };
}

export interface Running {
  server: AgentServer;
  port: number;
  url: (p: string) => string;
}

/** Starts an agent server on 127.0.0.1 (port 0), closed after the test. */
export async function startServer(
  t: Pick<TestContext, 'after'>,
  options: Partial<AgentServerOptions> & Pick<AgentServerOptions, 'runtime'>,
): Promise<Running> {
  const server = createAgentServer({
    serviceDir: () => undefined,
    status: () => sampleStatus(),
    health: () => ({ ok: true, reasons: [] }),
    ...options,
  });
  const address = await server.listen(0, '127.0.0.1');
  t.after(() => server.close());
  return { server, port: address.port, url: (p) => `http://127.0.0.1:${address.port}${p}` };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request with node:http, the path sent as given; bodies are not decompressed. */
export function request(
  port: number,
  pathname: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString(),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout requesting ${pathname}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes `text` to a raw socket and returns the status code and the whole answer. */
export function rawRequest(
  port: number,
  text: string,
): Promise<{ status: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ status, answer });
    });
    socket.write(text);
  });
}

/** A raw GET of `target` (written verbatim in the request line) with Connection: close. */
export function rawGet(port: number, target: string): Promise<{ status: number; answer: string }> {
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
}

/** The fixture service (fixtures/service.mjs) as a real child process on a free loopback port. */
export async function startService(
  t: Pick<TestContext, 'after'>,
  root: string,
): Promise<{ port: number; proc: Started }> {
  const port = await freePort();
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/service.mjs');
  const proc = startProcess(t, process.execPath, [script, String(port), root]);
  await waitForPort(port);
  return { port, proc };
}

// The data sources the fleet bench measures, each a real server on 127.0.0.1 pinned to CPU 0:
//
//   - `git daemon` (git://), as `git daemon --export-all` runs it;
//   - git's smart HTTP: `git http-backend` (CGI) behind nginx through fcgiwrap, as GitHub-like hosts
//     serve it, over plain HTTP and over TLS;
//   - static files from the same nginx: a small pointer file and git bundles, over HTTP and TLS.
//
// Each listens behind a byte-counting TCP proxy (test/data-sync/tcp-proxy.ts): bytes per poll are
// the bytes of the conversation, both ways, as the network carries them (TCP/IP headers aside).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freeLoopbackPort } from '../../src/lib/free-port.js';
import { startTcpProxy, type TcpProxy } from '../../test/data-sync/tcp-proxy.js';
import { nginxMain, nginxTempPaths } from '../../test/helpers/nginx-conf.js';
import { waitForPort } from '../../test/helpers/proc.js';
import type { CpuMeter } from './cpu-meter.js';

/** The running servers, their PIDs (for /proc) and the proxied ports clients use. */
export interface Sources {
  daemonProxy: TcpProxy;
  httpProxy: TcpProxy;
  httpsProxy: TcpProxy;
  /** The self-signed certificate clients trust for the TLS variants. */
  caFile: string;
  gitUrl(repo: string): string;
  httpUrl(repo: string): string;
  httpsUrl(repo: string): string;
  /** URLs of a file under the static root. */
  staticUrl(file: string, tls: boolean): string;
  staticRoot: string;
  stop(): Promise<void>;
}

/** The path of a command, or a clear error naming the Debian package that has it. */
export function need(command: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  const resolved = found.stdout.trim();
  if (!resolved) {
    throw new Error(`${command} is not installed (apt-get install ${debianPackage})`);
  }
  return resolved;
}

/** Starts git daemon, nginx and fcgiwrap over `reposDir` (bare repos) and `staticRoot`. */
export async function startSources(
  work: string,
  reposDir: string,
  meter: CpuMeter,
): Promise<Sources> {
  const taskset = need('taskset', 'util-linux');
  const nginx = need('nginx', 'nginx-light');
  const fcgiwrap = need('fcgiwrap', 'fcgiwrap');
  const openssl = need('openssl', 'openssl');
  const backend = '/usr/lib/git-core/git-http-backend';
  if (!existsSync(backend)) throw new Error(`${backend} is missing (apt-get install git)`);

  const children: ChildProcess[] = [];
  const proxies: TcpProxy[] = [];
  const stop = async () => {
    for (const proxy of proxies) await proxy.close();
    // Each server runs in its own process group: its workers (fcgiwrap's, git daemon's) go with it.
    const signalGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // gone already
      }
    };
    for (const child of children) signalGroup(child, 'SIGTERM');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) {
              signalGroup(c, 'SIGKILL');
              return resolve();
            }
            const timer = setTimeout(() => (signalGroup(c, 'SIGKILL'), resolve()), 3000);
            // Whatever of the group outlived its leader goes too.
            c.once('exit', () => (clearTimeout(timer), signalGroup(c, 'SIGKILL'), resolve()));
          }),
      ),
    );
  };
  const pinned = (argv: string[], cwd?: string) => {
    const [program, ...rest] = meter.wrap([taskset, '-c', '0', ...argv]);
    const child = spawn(program!, rest, {
      // git daemon reports every probe of its port ("the remote end hung up"): its stderr is dropped.
      stdio: ['ignore', 'ignore', argv[0] === 'git' ? 'ignore' : 'inherit'],
      detached: true,
      ...(cwd ? { cwd } : {}),
    });
    children.push(child);
    if (child.pid !== undefined) meter.track(child.pid);
    return child;
  };

  try {
    const staticRoot = path.join(work, 'static');
    const prefix = path.join(work, 'nginx');
    mkdirSync(staticRoot, { recursive: true });
    mkdirSync(path.join(prefix, 'logs'), { recursive: true });

    // A certificate like most hosts now use (ECDSA P-256), self-signed for 127.0.0.1.
    const caFile = path.join(prefix, 'cert.pem');
    const keyFile = path.join(prefix, 'key.pem');
    const cert = spawnSync(
      openssl,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        caFile,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    if (cert.status !== 0) throw new Error(`openssl req failed: ${cert.stderr}`);

    // git daemon: as shipped (its default --max-connections of 32 included).
    const daemonPort = await freeLoopbackPort();
    pinned([
      'git',
      'daemon',
      '--reuseaddr',
      '--listen=127.0.0.1',
      `--port=${daemonPort}`,
      `--base-path=${reposDir}`,
      '--export-all',
      reposDir,
    ]);

    // fcgiwrap: a few workers, each forks git http-backend per request and reaps it.
    const socket = path.join(prefix, 'fcgiwrap.sock');
    pinned([fcgiwrap, '-s', `unix:${socket}`, '-c', '4']);

    const httpPort = await freeLoopbackPort();
    const httpsPort = await freeLoopbackPort();
    const conf = path.join(prefix, 'nginx.conf');
    writeFileSync(
      conf,
      `# One nginx process: the static root, and git http-backend through fcgiwrap.
${nginxMain(prefix, 4096)}http {
  default_type application/octet-stream;
  types { application/json json; }
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
${nginxTempPaths(prefix)}
  ssl_certificate ${caFile};
  ssl_certificate_key ${keyFile};
  ssl_protocols TLSv1.2 TLSv1.3;
  server {
    listen 127.0.0.1:${httpPort};
    listen 127.0.0.1:${httpsPort} ssl;
    location /static/ {
      alias ${staticRoot}/;
      etag on;
    }
    location ~ ^/git(/.*)$ {
      client_max_body_size 0;
      fastcgi_pass unix:${socket};
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME ${backend};
      fastcgi_param GIT_PROJECT_ROOT ${reposDir};
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO $1;
    }
  }
}
`,
    );
    pinned([nginx, '-p', prefix, '-c', conf, '-e', `${prefix}/logs/error.log`]);

    await Promise.all([waitForPort(daemonPort), waitForPort(httpPort), waitForPort(httpsPort)]);
    for (let i = 0; i < 100 && !existsSync(socket); i++)
      await new Promise((r) => setTimeout(r, 20));
    if (!existsSync(socket)) throw new Error(`fcgiwrap did not create ${socket}`);

    const daemonProxy = await startTcpProxy(daemonPort);
    const httpProxy = await startTcpProxy(httpPort);
    const httpsProxy = await startTcpProxy(httpsPort);
    proxies.push(daemonProxy, httpProxy, httpsProxy);
    return {
      daemonProxy,
      httpProxy,
      httpsProxy,
      caFile,
      staticRoot,
      gitUrl: (repo) => `git://127.0.0.1:${daemonProxy.port}/${repo}`,
      httpUrl: (repo) => `http://127.0.0.1:${httpProxy.port}/git/${repo}`,
      httpsUrl: (repo) => `https://127.0.0.1:${httpsProxy.port}/git/${repo}`,
      staticUrl: (file, tls) =>
        tls
          ? `https://127.0.0.1:${httpsProxy.port}/static/${file}`
          : `http://127.0.0.1:${httpProxy.port}/static/${file}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

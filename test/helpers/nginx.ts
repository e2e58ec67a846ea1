// A real nginx serving one folder on 127.0.0.1 (ETags and conditional GETs as nginx does them), with
// its own temp config and prefix; stopped by PID after the test, pass or fail. Every request is
// logged (method, path, status, If-None-Match), so tests can count what the agents asked.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort, startProcess, waitForPort } from './proc.js';
import { tempDir } from './tmp.js';
import { nginxMain, nginxTempPaths } from './nginx-conf.js';
import { requireTool } from './tools.js';

export interface Nginx {
  /** The URL of the served folder, with a trailing "/". */
  url: string;
  pid: number;
  /** The requests so far: "GET /x 304 <if-none-match>" lines. */
  requests(): string[];
  stop(): Promise<void>;
}

/** Starts nginx serving `root` (read at each request) at http://127.0.0.1:PORT/mirror/. */
export async function startNginx(t: Pick<TestContext, 'after'>, root: string): Promise<Nginx> {
  const nginx = requireTool('nginx', 'nginx-light');
  const prefix = tempDir(t, 'gitstrap-nginx-');
  mkdirSync(path.join(prefix, 'logs'), { recursive: true });
  const port = await freePort();
  const log = path.join(prefix, 'logs', 'access.log');
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `${nginxMain(prefix, 64)}http {
  default_type application/octet-stream;
  types { application/json json; }
  log_format requests '$request_method $uri $status "$http_if_none_match"';
  access_log ${log} requests;
${nginxTempPaths(prefix)}
  server {
    listen 127.0.0.1:${port};
    location /mirror/ {
      alias ${root}/;
      etag on;
      open_file_cache off;
    }
  }
}
`,
  );
  const started = startProcess(t, nginx, [
    '-p',
    prefix,
    '-c',
    conf,
    '-e',
    `${prefix}/logs/error.log`,
  ]);
  await Promise.race([
    waitForPort(port),
    started.exited.then((code) => {
      throw new Error(`nginx exited (${code}): ${started.output()}`);
    }),
  ]);
  return {
    url: `http://127.0.0.1:${port}/mirror/`,
    pid: started.pid,
    requests() {
      try {
        return readFileSync(log, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    stop: () => started.stop(),
  };
}

// The real agent as a black box: service and data repos behind `git daemon` on 127.0.0.1, a recipe
// file, `node bin/bootstrap.js run` started as a process (killed by PID after the test), its JSON-lines
// log read back, and plain HTTP requests to it.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { stringify } from 'yaml';
import { BIN } from '../helpers/cli.js';
import { makeRepo, startGitDaemon, type GitDaemon } from '../helpers/git.js';
import { freePort, startProcess, waitFor, type Started } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot } from '../helpers/tools.js';

type T = Pick<TestContext, 'after'>;

/** A service repo and a data repo served by one git daemon. */
export interface Repos {
  dir: string;
  daemon: GitDaemon;
  service: string;
  data: string;
  serviceUrl: string;
  dataUrl: string;
}

/** Makes `service` and `data` repos (on branch main) under a temp dir and serves them with git daemon. */
export async function makeRepos(
  t: T,
  serviceFiles: Record<string, string | Buffer>,
  dataFiles: Record<string, string | Buffer> = { 'results.json': '{"total": 1}' },
): Promise<Repos> {
  const dir = tempDir(t, 'gitstrap-agent-');
  const service = path.join(dir, 'repos', 'service');
  const data = path.join(dir, 'repos', 'data');
  makeRepo(service, serviceFiles);
  makeRepo(data, dataFiles);
  const daemon = await startGitDaemon(t, path.join(dir, 'repos'));
  return {
    dir,
    daemon,
    service,
    data,
    serviceUrl: daemon.url('service'),
    dataUrl: daemon.url('data'),
  };
}

/** One line of the agent's JSON log. */
export type LogLine = { event: string; level: string } & Record<string, unknown>;

/** A running agent process. */
export interface RunningAgent {
  proc: Started;
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  root: string;
  recipeFile: string;
  logs(): LogLine[];
  /** Waits for a log line with this event (and matching `where`). */
  waitForLog(
    event: string,
    where?: (line: LogLine) => boolean,
    timeoutMs?: number,
  ): Promise<LogLine>;
}

/** Parses the JSON lines of an agent's output (other lines are ignored). */
export function parseLog(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
}

/** Writes a recipe object as YAML; fills serve.port (a free port) and serve.host (127.0.0.1). */
export async function writeRecipe(
  dir: string,
  recipe: Record<string, unknown>,
): Promise<{ file: string; port: number }> {
  const serve = (recipe.serve ?? {}) as Record<string, unknown>;
  const port = (serve.port as number | undefined) ?? (await freePort());
  const file = path.join(dir, `${String(recipe.name)}-${port}.yaml`);
  writeFileSync(file, stringify({ ...recipe, serve: { host: '127.0.0.1', ...serve, port } }));
  return { file, port };
}

export interface StartOptions {
  root?: string;
  env?: NodeJS.ProcessEnv;
  /** Node binary and entry (default: this Node and bin/bootstrap.js). */
  node?: string;
  entry?: string;
  /** Wait for agent.ready (default) or only agent.listening, or nothing. */
  waitFor?: 'ready' | 'listening' | 'nothing';
}

/** Starts `bootstrap run --recipe FILE --root ROOT` and waits until it serves. */
export async function startAgent(
  t: T,
  dir: string,
  recipe: Record<string, unknown>,
  options: StartOptions = {},
): Promise<RunningAgent> {
  const { file, port } = await writeRecipe(dir, recipe);
  return launchAgent(t, file, [], port, options.root ?? path.join(dir, 'state'), options);
}

/**
 * Starts `bootstrap run` on a recipe file as it is (e.g. a shipped one), with `--set` overrides;
 * serve.host (127.0.0.1) and serve.port (a free port) are set too. Waits as startAgent does.
 */
export async function startRecipeAgent(
  t: T,
  dir: string,
  recipeFile: string,
  sets: readonly string[],
  options: StartOptions = {},
): Promise<RunningAgent> {
  const port = await freePort();
  const all = [...sets, 'serve.host=127.0.0.1', `serve.port=${port}`];
  return launchAgent(t, recipeFile, all, port, options.root ?? path.join(dir, 'state'), options);
}

async function launchAgent(
  t: T,
  file: string,
  sets: readonly string[],
  port: number,
  root: string,
  options: StartOptions,
): Promise<RunningAgent> {
  const proc = startProcess(
    t,
    options.node ?? process.execPath,
    [
      options.entry ?? BIN,
      'run',
      '--recipe',
      file,
      ...sets.flatMap((s) => ['--set', s]),
      '--root',
      root,
    ],
    { cwd: projectRoot, env: { ...process.env, ...options.env } },
  );
  const agent: RunningAgent = {
    proc,
    url: `http://127.0.0.1:${port}`,
    port,
    root,
    recipeFile: file,
    logs: () => parseLog(proc.output()),
    waitForLog: async (event, where = () => true, timeoutMs = 30_000) => {
      const find = () => agent.logs().find((l) => l.event === event && where(l));
      const exited = proc.exited.then(() => {
        // The last lines may still be in flight; look once more after they land.
        return new Promise<LogLine>((resolve, reject) =>
          setTimeout(() => {
            const found = find();
            if (found) resolve(found);
            else reject(new Error(`the agent exited before logging ${event}:\n${proc.output()}`));
          }, 100),
        );
      });
      const found = waitFor(async () => find(), `log event ${event}`, timeoutMs, 50).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n--- agent output ---\n${proc.output()}`);
        },
      );
      return Promise.race([found, exited]);
    },
  };
  const wanted = options.waitFor ?? 'ready';
  if (wanted !== 'nothing')
    await agent.waitForLog(wanted === 'ready' ? 'agent.ready' : 'agent.listening');
  return agent;
}

/** A plain HTTP GET (no keep-alive): status, headers and body as text. */
export function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (c: string) => (body += c));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/** POSTs a body with headers; resolves with status and body. */
export function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent: false, headers, timeout: 10_000 },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (c: string) => (text += c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`POST ${url} timed out`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** Whether a process with this PID exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A stand-in apt on PATH: dpkg-query answers from a folder of markers, apt-get install adds them. */
export interface FakePackageManager {
  /** PATH with the stand-ins first. */
  path: string;
  /** Every call, with its arguments ("apt-get install -y ..."). */
  calls(): string[];
  /** Marks a package as installed. */
  install(name: string): void;
}

/** Creates the stand-in package manager under `dir`. */
export function fakePackageManager(dir: string): FakePackageManager {
  const bin = path.join(dir, 'pm-bin');
  const installed = path.join(dir, 'pm-installed');
  const log = path.join(dir, 'pm-calls');
  mkdirSync(bin, { recursive: true });
  mkdirSync(installed, { recursive: true });
  writeFileSync(log, '', { mode: 0o666 });
  chmodSync(log, 0o666);
  writeFileSync(
    path.join(bin, 'dpkg-query'),
    `#!/bin/sh\nprintf '%s\\036' "dpkg-query $*" >> ${log}\nfor a in "$@"; do case "$a" in -*) ;; *) [ -e ${installed}/$a ] && printf '%s\\tii \\n' "$a";; esac; done\nexit 0\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    path.join(bin, 'apt-get'),
    `#!/bin/sh\nprintf '%s\\036' "apt-get $*" >> ${log}\n[ "$1" = install ] && for a in "$@"; do case "$a" in -*|install) ;; *) touch ${installed}/$a;; esac; done\nexit 0\n`,
    { mode: 0o755 },
  );
  return {
    path: `${bin}:${process.env.PATH}`,
    calls: () => readFileSync(log, 'utf8').split('\x1e').filter(Boolean),
    install: (name) => writeFileSync(path.join(installed, name), ''),
  };
}

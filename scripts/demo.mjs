// `npm run demo`: the embedded default. Makes git repos from demo/service and demo/data in a temp
// folder, serves them with `git daemon` on 127.0.0.1, runs the real agent (bin/bootstrap.js run
// --recipe recipes/demo.yaml) against them, prints the URL, and commits new test results every few
// seconds. Ctrl-C stops the agent and git daemon (by PID) and removes the temp folder.
// Options: --port N (default 8080; a free port when it is taken, or with 0), --interval SECONDS (default 5).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { initialResults, nextResults } from '../demo/results.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { port: { type: 'string' }, interval: { type: 'string' } },
});
const intervalMs = Math.max(1, Number(values.interval ?? 5)) * 1000;
const say = (line) => process.stdout.write(`demo: ${line}\n`);

if (!existsSync(path.join(root, 'dist/cli.js'))) {
  console.error('demo: gitstrap is not built; run "npm ci" (or "npm run build") first');
  process.exit(1);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-demo-'));
const children = [];
let commitTimer;
let stopping = false;

/** Runs git in a folder as the demo's author. */
const git = (cwd, ...args) =>
  execFileSync(
    'git',
    ['-c', 'user.name=gitstrap demo', '-c', 'user.email=demo@gitstrap.invalid', ...args],
    {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
    },
  ).trim();

/** A port on 127.0.0.1 that is free now (the preferred one if it is). */
function freePort(preferred = 0) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () =>
      resolve(preferred === 0 ? Promise.reject(new Error('no free port')) : freePort(0)),
    );
    server.listen(preferred, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a child in its own process group (so the terminal's Ctrl-C reaches only this script). */
function start(name, command, args, options = {}) {
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  children.push({ name, child, exited });
  return { child, exited };
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  clearInterval(commitTimer);
  for (const { child, exited } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(tmp, { recursive: true, force: true });
  say(`stopped; removed ${tmp}`);
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function waitForPort(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

try {
  // The two repos, from the folders shipped in demo/.
  const repos = path.join(tmp, 'repos');
  for (const name of ['service', 'data']) {
    const dir = path.join(repos, name);
    cpSync(path.join(root, 'demo', name), dir, { recursive: true });
    // The shipped results, re-dated so the last nightly run was last night.
    if (name === 'data') {
      writeFileSync(
        path.join(dir, 'results.json'),
        JSON.stringify(initialResults(), null, 2) + '\n',
      );
    }
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `demo ${name}`);
  }
  say(`git repos in ${repos}`);

  const gitPort = await freePort();
  const daemon = start('git daemon', 'git', [
    'daemon',
    '--reuseaddr',
    '--listen=127.0.0.1',
    `--port=${gitPort}`,
    `--base-path=${repos}`,
    '--export-all',
    repos,
  ]);
  daemon.exited.then((code) => !stopping && (say(`git daemon exited (${code})`), stopAll(1)));
  await waitForPort(gitPort);

  const port = await freePort(values.port !== undefined ? Number(values.port) : 8080);
  const agent = start('agent', process.execPath, [
    path.join(root, 'bin/bootstrap.js'),
    'run',
    '--recipe',
    path.join(root, 'recipes/demo.yaml'),
    '--set',
    `service.repo=git://127.0.0.1:${gitPort}/service`,
    '--set',
    `data.repo=git://127.0.0.1:${gitPort}/data`,
    '--set',
    `serve.port=${port}`,
    '--root',
    path.join(tmp, 'state'),
  ]);
  let errors = '';
  agent.child.stderr.on('data', (d) => (errors += d));
  let partial = '';
  agent.child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) showAgentEvent(line, port);
  });
  agent.exited.then((code) => {
    if (stopping) return;
    process.stderr.write(errors || `demo: the agent exited (${code})\n`);
    void stopAll(1);
  });

  // New test results every few seconds: the agent's schedule picks each commit up.
  const dataRepo = path.join(repos, 'data');
  commitTimer = setInterval(() => {
    const file = path.join(dataRepo, 'results.json');
    const results = nextResults(JSON.parse(readFileSync(file, 'utf8')));
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    git(dataRepo, 'commit', '-q', '-am', `run ${results.latest.name}: ${results.latest.status}`);
    say(
      `committed run ${results.latest.name} (${results.latest.suite}: ${results.latest.passed} passed, ${results.latest.failed} failed)`,
    );
  }, intervalMs);
} catch (error) {
  console.error(`demo: ${error.message}`);
  await stopAll(1);
}

/** Prints the agent events a person watching the demo cares about. */
function showAgentEvent(line, port) {
  let event;
  try {
    event = JSON.parse(line);
  } catch {
    return;
  }
  if (event.event === 'agent.ready') {
    say(
      `the dashboard is live at http://127.0.0.1:${port}/  (agent status: http://127.0.0.1:${port}/_gitstrap/)`,
    );
    say(`new test results are committed every ${intervalMs / 1000}s; Ctrl-C stops everything`);
  } else if (event.event === 'data.published') {
    say(`agent published data ${String(event.commit).slice(0, 12)} (${event.trigger})`);
  } else if (event.level === 'error' || event.level === 'warn') {
    say(`agent ${event.level}: ${event.event} ${event.error ?? event.problem ?? ''}`);
  }
}

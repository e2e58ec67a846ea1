// `npm run bench:serve`: requests per second of the agent server against nginx serving the same
// folder, side by side in one run, with the same load generator (wrk): 1,000 small JSON files
// (2 KB) and one 200 KB file, without and with If-None-Match. Servers are pinned to CPU 0 and wrk
// to CPU 1. The agent runs as it ships: src/serve bundled by esbuild as scripts/build.mjs bundles
// the agent (run through tsx it pays a few microseconds more per request). Two reference lines:
// `node:http` is the least any node:http server does for these answers (the agent's headers and
// ETags, precomputed, looked up by req.url, no checks): the floor under the agent's figures; plain
// express.static is the other. Prints medians of several rounds and ratios, then the real agent's
// memory (bench/serve-memory.ts; BENCH_SKIP_MEMORY=1 leaves it out).
//
//   BENCH_ROUNDS=3 BENCH_SECONDS=4 BENCH_CONNECTIONS=32 npm run bench:serve
//
// The script also runs the servers it measures: `tsx bench/serve.ts --serve agent|express ROOT PORT`
// (the agent through tsx, e.g. for `node --cpu-prof`); the bundled agent and node:http floor are
// written to ROOT/bench-servers.mjs and run as `node bench-servers.mjs agent|floor ROOT PORT`.
import { build } from 'esbuild';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '../src/lib/free-port.js';
import { AGENT_RUNTIME_ENV } from '../src/lib/agent-runtime-env.js';
import { measureAgentMemory } from './serve-memory.js';
import { nginxMain, nginxTempPaths } from '../test/helpers/nginx-conf.js';
import { waitForPort } from '../test/helpers/proc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SMALL_FILES = 1000;
const SMALL_BYTES = 2048;
const BIG_BYTES = 200 * 1024;
/** Linux's USER_HZ: the unit of /proc/PID/stat's times. */
const CLOCK_TICKS =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// `agent` runs as its systemd unit runs it (src/lib/agent-runtime-env.ts: a 1 MB young
// generation); `agent, defaults` is the same server with Node's defaults, to show what that costs.
type ServerName = 'nginx' | 'agent' | 'agent, defaults' | 'node:http' | 'express.static';
const SERVERS: ServerName[] = ['nginx', 'agent', 'agent, defaults', 'node:http', 'express.static'];

interface Scenario {
  name: string;
  paths: string[];
  conditional: boolean;
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3] as 'agent' | 'express', process.argv[4]!, Number(process.argv[5]));
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------
// The servers under test (run in their own process, pinned to CPU 0)

async function serve(kind: 'agent' | 'express', root: string, port: number): Promise<void> {
  if (kind === 'agent') {
    const { startBenchAgent } = await import('./serve-agent.js');
    await startBenchAgent(root, port);
  } else {
    const express = (await import('express')).default;
    const app = express();
    app.use(express.static(root));
    await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', () => resolve()));
  }
  process.stdout.write('ready\n');
}

// ---------------------------------------------------------------------------------------------
// The run

async function main(): Promise<void> {
  const nginx = need('nginx', 'nginx-light');
  const wrk = need('wrk', 'wrk');
  const taskset = need('taskset', 'util-linux');
  if (os.cpus().length < 2) console.warn('warning: fewer than 2 CPUs; server and wrk share one');

  const root = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-serve-'));
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.on(
    'SIGINT',
    () => (stopAll(), rmSync(root, { recursive: true, force: true }), process.exit(130)),
  );
  try {
    const small = writeData(root);
    const ports = {
      nginx: await freeLoopbackPort(),
      agent: await freeLoopbackPort(),
      'agent, defaults': await freeLoopbackPort(),
      'node:http': await freeLoopbackPort(),
      'express.static': await freeLoopbackPort(),
    };
    const pids = new Map<ServerName, number | undefined>();
    children.push(startNginx(nginx, taskset, root, ports.nginx));
    pids.set('nginx', children.at(-1)!.pid);
    const servers = await bundleServers(root);
    const self = fileURLToPath(import.meta.url);
    const commands: Record<Exclude<ServerName, 'nginx'>, string[]> = {
      agent: [servers, 'agent', root],
      'agent, defaults': [servers, 'agent', root],
      'node:http': [servers, 'floor', root],
      'express.static': ['--import', 'tsx', self, '--serve', 'express', root],
    };
    for (const [name, args] of Object.entries(commands) as Array<[ServerName, string[]]>) {
      children.push(
        spawn(taskset, ['-c', '0', process.execPath, ...args, String(ports[name])], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: {
            ...process.env,
            NODE_ENV: 'production',
            ...(name === 'agent' ? AGENT_RUNTIME_ENV : {}),
          },
        }),
      );
      pids.set(name, children.at(-1)!.pid); // taskset execs the server: the same process
    }
    for (const name of SERVERS) await waitForPort(ports[name]);
    // Every server must answer the same bytes before its rate means anything.
    for (const name of SERVERS) {
      for (const [p, size] of [
        [small[0]!, SMALL_BYTES],
        ['/data/big.json', BIG_BYTES],
      ] as const) {
        const answer = await get(ports[name], p);
        if (answer.status !== 200 || answer.length !== size)
          throw new Error(`${name} answered ${answer.status} with ${answer.length} bytes for ${p}`);
      }
    }

    const scenarios: Scenario[] = [
      { name: '2 KB JSON x1000', paths: small, conditional: false },
      { name: '2 KB JSON x1000, If-None-Match', paths: small, conditional: true },
      { name: '200 KB file', paths: ['/data/big.json'], conditional: false },
      { name: '200 KB file, If-None-Match', paths: ['/data/big.json'], conditional: true },
    ];
    const scripts = new Map<string, string>();
    for (const scenario of scenarios) {
      for (const name of SERVERS) {
        const etags = scenario.conditional
          ? await fetchEtags(ports[name], scenario.paths)
          : undefined;
        const file = path.join(root, `${name}-${scripts.size}.lua`);
        writeFileSync(file, luaScript(scenario.paths, etags));
        scripts.set(`${scenario.name}|${name}`, file);
      }
    }

    console.log(
      `bench:serve  wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} rounds; servers on CPU 0, wrk on CPU 1; node ${process.version}`,
    );
    // Warm up every server on every scenario (fills caches, JITs the hot paths).
    for (const scenario of scenarios) {
      for (const name of SERVERS)
        runWrk(wrk, taskset, ports[name], scripts.get(`${scenario.name}|${name}`)!, 1);
    }
    const results = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of scenarios) {
        // Alternate the order each round so no server always runs right after another.
        const order = round % 2 === 1 ? SERVERS : [...SERVERS].reverse();
        for (const name of order) {
          const key = `${scenario.name}|${name}`;
          const before = cpuSeconds(pids.get(name));
          const { rate, requests } = runWrk(wrk, taskset, ports[name], scripts.get(key)!, SECONDS);
          const used = cpuSeconds(pids.get(name)) - before;
          results.set(key, [...(results.get(key) ?? []), rate]);
          cpu.set(key, [...(cpu.get(key) ?? []), (used * 1e6) / requests]);
        }
      }
      process.stderr.write(`  round ${round}/${ROUNDS} done\n`);
    }
    printTable(scenarios, results, cpu);
  } finally {
    stopAll();
    rmSync(root, { recursive: true, force: true });
  }
  if (!process.env.BENCH_SKIP_MEMORY) await measureAgentMemory(wrk);
}

/**
 * Bundles the servers that run from a bundle into ROOT/bench-servers.mjs: the agent's server
 * (src/serve, as scripts/build.mjs bundles it into the agent) and the node:http floor.
 */
async function bundleServers(root: string): Promise<string> {
  const outfile = path.join(root, 'bench-servers.mjs');
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  await build({
    stdin: { contents: serversSource(), resolveDir: repo, loader: 'ts', sourcefile: 'servers.ts' },
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    outfile,
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);",
    },
  });
  return outfile;
}

/** The source of ROOT/bench-servers.mjs (a function: main() runs before module constants exist). */
function serversSource(): string {
  return `
import http from 'node:http';
import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { startBenchAgent } from './bench/serve-agent.ts';
import { contentHash } from './src/serve/cache-entry.ts';
import { computeSecurityHeaders, flattenHeaders } from './src/serve/security-headers.ts';

const [kind, root, port] = process.argv.slice(2);
if (kind === 'agent') {
  await startBenchAgent(root, Number(port));
} else {
  // The floor: the agent's 200 and 304 header arrays for each file, built once; a request is a
  // Map lookup by req.url, a scan of rawHeaders for If-None-Match, writeHead and end.
  const security = flattenHeaders(computeSecurityHeaders());
  const files = new Map();
  for (const name of readdirSync(path.join(root, 'data'))) {
    const body = readFileSync(path.join(root, 'data', name));
    const etag = '"' + contentHash(body) + '"';
    const common = ['ETag', etag, 'Cache-Control', 'no-cache', 'Vary', 'Accept-Encoding', ...security];
    const ok = ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(body.length), ...common];
    files.set('/data/' + name, { body, etag, ok, notModified: common });
  }
  const server = http.createServer((req, res) => {
    const file = files.get(req.url);
    if (file === undefined) {
      res.writeHead(404, ['Content-Length', '0']);
      return res.end();
    }
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === 13 && raw[i].toLowerCase() === 'if-none-match' && raw[i + 1] === file.etag) {
        res.writeHead(304, file.notModified);
        return res.end();
      }
    }
    res.writeHead(200, file.ok);
    res.end(file.body);
  });
  await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
}
process.stdout.write('ready\\n');
`;
}

function writeData(root: string): string[] {
  mkdirSync(path.join(root, 'data'), { recursive: true });
  mkdirSync(path.join(root, 'site'), { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < SMALL_FILES; i++) {
    const name = `f${String(i).padStart(4, '0')}.json`;
    writeFileSync(path.join(root, 'data', name), jsonOfSize(SMALL_BYTES, i));
    paths.push(`/data/${name}`);
  }
  writeFileSync(path.join(root, 'data', 'big.json'), jsonOfSize(BIG_BYTES, 0));
  return paths;
}

/** A JSON document of exactly `bytes` bytes, like a test-results file. */
function jsonOfSize(bytes: number, seed: number): string {
  const runs: string[] = [];
  let text = '';
  for (let i = 0; ; i++) {
    runs.push(
      JSON.stringify({
        id: seed * 100_000 + i,
        name: `case-${i}`,
        passed: (i + seed) % 7 !== 0,
        ms: (i * 37 + seed) % 1000,
      }),
    );
    const next = `{"version":"v1","runs":[${runs.join(',')}]}`;
    if (next.length > bytes) break;
    text = next;
  }
  return text.padEnd(bytes - 1, ' ') + '\n';
}

function startNginx(nginx: string, taskset: string, root: string, port: number): ChildProcess {
  const prefix = path.join(root, 'nginx');
  mkdirSync(path.join(prefix, 'logs'), { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `# One process (master_process off = a single worker), serving ROOT like the agent does.
${nginxMain(prefix, 1024)}http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
${nginxTempPaths(prefix)}
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  );
  return spawn(
    taskset,
    ['-c', '0', nginx, '-p', prefix, '-c', conf, '-e', `${prefix}/logs/error.log`],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

/** A wrk script that cycles through `paths` (with their ETags as If-None-Match when given). */
function luaScript(paths: string[], etags?: string[]): string {
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = paths.map((p, i) =>
    etags
      ? `  wrk.format("GET", ${quote(p)}, { ["If-None-Match"] = ${quote(etags[i]!)} }),`
      : `  wrk.format("GET", ${quote(p)}),`,
  );
  return `local requests
local i = 0
init = function(args)
  requests = {
${lines.join('\n')}
  }
end
request = function()
  i = i + 1
  if i > #requests then i = 1 end
  return requests[i]
end
`;
}

function runWrk(
  wrk: string,
  taskset: string,
  port: number,
  script: string,
  seconds: number,
): { rate: number; requests: number } {
  const run = spawnSync(
    taskset,
    [
      '-c',
      '1',
      wrk,
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '-s',
      script,
      `http://127.0.0.1:${port}`,
    ],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 },
  );
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr || run.stdout}`);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout);
  if (errors) throw new Error(`port ${port}: ${errors[1]} error responses\n${run.stdout}`);
  const socket = /Socket errors: (.*)/.exec(run.stdout);
  if (socket) throw new Error(`port ${port}: socket errors: ${socket[1]}\n${run.stdout}`);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
  const requests = /(\d+) requests in/.exec(run.stdout);
  if (!rate || !requests) throw new Error(`could not read wrk's output:\n${run.stdout}`);
  return { rate: Number(rate[1]), requests: Number(requests[1]) };
}

/**
 * CPU seconds (user + system) a process has used, from /proc (NaN elsewhere). Per request, it is
 * the steadier figure on a shared machine: time the server waits for a CPU is not counted.
 */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

async function fetchEtags(port: number, paths: string[]): Promise<string[]> {
  const etags: string[] = [];
  for (const p of paths) {
    const first = await get(port, p);
    const etag = first.headers.etag;
    if (first.status !== 200 || typeof etag !== 'string')
      throw new Error(`no ETag from port ${port} for ${p}`);
    const again = await get(port, p, { 'If-None-Match': etag });
    if (again.status !== 304)
      throw new Error(`port ${port} answered ${again.status}, not 304, for ${p}`);
    etags.push(etag);
  }
  return etags;
}

function get(
  port: number,
  p: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; length: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: p, headers, agent: false, timeout: 10_000 },
      (res) => {
        let length = 0;
        res.on('data', (chunk: Buffer) => (length += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, length }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function printTable(
  scenarios: Scenario[],
  results: Map<string, number[]>,
  cpu: Map<string, number[]>,
): void {
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const header = [
    'scenario',
    'nginx req/s',
    'agent req/s',
    'agent, defaults',
    'node:http req/s',
    'express.static req/s',
    'agent/nginx',
    'defaults/nginx',
    'node:http/nginx',
    'static/nginx',
  ];
  // Ratios are the median of each round's ratio: the servers of one round ran back to back, so
  // background load on this shared machine moves both sides of a ratio alike.
  const ratio = (s: Scenario, name: ServerName) => {
    const mine = results.get(`${s.name}|${name}`) ?? [];
    const base = results.get(`${s.name}|nginx`) ?? [];
    return median(mine.map((r, i) => r / (base[i] ?? NaN)));
  };
  const rows = scenarios.map((s) => [
    s.name,
    ...SERVERS.map((name) => fmt(median(results.get(`${s.name}|${name}`) ?? [0]))),
    ...SERVERS.filter((name) => name !== 'nginx').map((name) => `${ratio(s, name).toFixed(2)}x`),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('');
  // The targets (issue 15): the agent within 0.8x of nginx on small files, with and without
  // If-None-Match, and on a large file's 304.
  for (const s of scenarios.filter((s) => s.name !== '200 KB file')) {
    const r = ratio(s, 'agent');
    console.log(
      `target: agent >= 0.80x nginx, ${s.name}: ${r >= 0.8 ? 'met' : 'NOT met'} (${r.toFixed(2)}x; the node:http floor ${ratio(s, 'node:http').toFixed(2)}x)`,
    );
  }
  console.log('req/s: median of the rounds; ratios: median of the per-round ratios');
  console.log('');
  console.log('CPU time per request of the server process, µs (median of the rounds):');
  const cpuHeader = ['scenario', ...SERVERS];
  const cpuRows = scenarios.map((s) => [
    s.name,
    ...SERVERS.map((name) => median(cpu.get(`${s.name}|${name}`) ?? [NaN]).toFixed(1)),
  ]);
  const cpuWidths = cpuHeader.map((h, i) =>
    Math.max(h.length, ...cpuRows.map((r) => r[i]!.length)),
  );
  for (const row of [cpuHeader, ...cpuRows])
    console.log(
      row.map((c, i) => (i === 0 ? c.padEnd(cpuWidths[i]!) : c.padStart(cpuWidths[i]!))).join('  '),
    );
  console.log('');
  console.log('rounds (req/s):');
  for (const s of scenarios) {
    for (const name of SERVERS)
      console.log(
        `  ${s.name} | ${name}: ${(results.get(`${s.name}|${name}`) ?? []).map(fmt).join(', ')}`,
      );
  }
}

function need(command: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  const resolved = found.stdout.trim();
  if (found.status !== 0 || !resolved) {
    console.error(
      `bench:serve needs ${command}: install Debian's ${debianPackage} (npm run setup:test does)`,
    );
    process.exit(1);
  }
  return resolved;
}

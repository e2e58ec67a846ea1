// `npm run bench:sync`: data sync against the seed's method, side by side in one run, on a generated
// data repo (20,000 files, about 300 MB, 300 tags; cached in ~/.cache/gitstrap/bench-sync/) served by
// `git daemon` on 127.0.0.1 behind a byte-counting TCP proxy. Medians of several runs:
//
//   - an unchanged sync: wall time, bytes each way, connections; gitstrap vs `git fetch origin main`
//     (tags followed, as by default) and `git pull` in a clone;
//   - a one-file change: time until the new version is served; gitstrap (an idle version folder
//     reused, git writes the changed file, one rename) vs the seed's `git pull` then `rm -rf` and
//     `cp -r` of the tree into the served folder; and the disk each uses.
//
//   - Git LFS (data.lfs): a data repo of LFS objects on a git host with an LFS batch API (git
//     smart HTTP on 127.0.0.1, test/helpers/git-lfs-server.ts); a one-object change downloads that
//     object only (counted from the server's own log), and the time until it is served.
//
//   npm run bench:sync [-- --quick] [-- --runs N] [-- --lfs]
//
// --quick uses 2,000 files / 30 MB / 30 tags (and 20 LFS objects of 256 KB) for a fast check;
// --lfs runs the Git LFS case only. Targets: an unchanged sync under
// 2 KB in one connection; a small change served at least 10x sooner than with the seed's method
// (by medians), and 40x sooner in every round (issue 15).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDataSync } from '../data-sync/src/index.js';
import { execCommand, type Exec } from '../data-sync/src/exec.js';
import { freeLoopbackPort } from '../src/lib/free-port.js';
import { silentLogger } from '../src/lib/log.js';
import { data as dataSchema } from '../src/recipe/schema.js';
import { startTcpProxy, type TcpProxy } from '../test/data-sync/tcp-proxy.js';
import { startGitLfsServer } from '../test/helpers/git-lfs-server.js';
import { waitForPort } from '../test/helpers/proc.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 5;
const PARAMS = quick
  ? { files: 2_000, megabytes: 30, tags: 30 }
  : { files: 20_000, megabytes: 300, tags: 300 };

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: os.tmpdir(),
  GIT_TERMINAL_PROMPT: '0',
};

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Runs a command (async: the proxy lives in this process) and fails loudly. */
async function run(argv: string[], cwd?: string): Promise<string> {
  const r = await execCommand(argv, {
    env: GIT_ENV,
    timeoutMs: 30 * 60_000,
    ...(cwd ? { cwd } : {}),
  });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const kb = (x: number) => `${(x / 1024).toFixed(1)} KB`;
const mb = (x: number) => `${(x / 1024 / 1024).toFixed(0)} MB`;

async function diskUsed(...dirs: string[]): Promise<number> {
  const out = await run(['du', '-s', '--block-size=1', '-c', ...dirs]);
  return Number(out.split('\n').at(-1)!.split('\t')[0]);
}

// ---------------------------------------------------------------------------------------------
// The data repo: generated once with git fast-import, cached by its parameters

/** Feeds a fast-import stream to `git fast-import` in `repo`, respecting backpressure. */
async function fastImport(
  repo: string,
  produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<void>,
): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: repo,
    env: GIT_ENV,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  let failed: Error | undefined;
  child.stdin.on('error', (error) => (failed = error));
  const write = (chunk: string | Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (failed) reject(failed);
      else if (child.stdin.write(chunk)) resolve();
      else child.stdin.once('drain', resolve);
    });
  await produce(write);
  await write('done\n');
  child.stdin.end();
  if ((await exited) !== 0) throw new Error('git fast-import failed');
}

function commitHeader(message: string, when: number, mark?: number): string {
  const m = Buffer.from(message);
  return `commit refs/heads/main\n${mark ? `mark :${mark}\n` : ''}committer Bench <bench@example.invalid> ${when} +0000\ndata ${m.length}\n${message}\n`;
}

function fileContent(size: number): Buffer {
  // Text, as data repos hold: base64 of random bytes (git compresses it to about 3/4).
  return Buffer.from(
    randomBytes(Math.ceil((size * 3) / 4))
      .toString('base64')
      .slice(0, size - 1) + '\n',
  );
}

const fileName = (i: number) =>
  `d${String(Math.floor(i / 100)).padStart(3, '0')}/f${String(i % 100).padStart(2, '0')}.txt`;

async function ensureDataRepo(): Promise<string> {
  const key = `files${PARAMS.files}-mb${PARAMS.megabytes}-tags${PARAMS.tags}`;
  const cache = path.join(
    process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
    'gitstrap',
    'bench-sync',
    key,
  );
  const repo = path.join(cache, 'data.git');
  if (existsSync(path.join(cache, 'ready.json'))) return repo;
  console.log(`generating the data repo (${key}) in ${cache} ...`);
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  await run(['git', 'init', '-q', '--bare', '-b', 'main', repo]);
  const average = (PARAMS.megabytes * 1024 * 1024) / PARAMS.files;
  let when = 1_700_000_000;
  await fastImport(repo, async (write) => {
    let mark = 0;
    for (let i = 0; i < PARAMS.files; i++) {
      const content = fileContent(Math.round(average * (0.4 + 1.2 * Math.random())));
      await write(`blob\nmark :${++mark}\ndata ${content.length}\n`);
      await write(content);
      await write('\n');
    }
    await write(commitHeader('the data', when++));
    for (let i = 0; i < PARAMS.files; i++) await write(`M 100644 :${i + 1} ${fileName(i)}\n`);
    await write('\n');
    for (let tag = 1; tag <= PARAMS.tags; tag++) {
      // Later commits on the branch continue from its tip in this stream (no "from" needed).
      const body = `release ${tag}\n`;
      await write(commitHeader(`release ${tag}`, when++, ++mark));
      await write(`M 100644 inline releases.txt\ndata ${body.length}\n${body}\n`);
      await write(`reset refs/tags/v${tag}\nfrom :${mark}\n\n`);
    }
  });
  await run(['git', 'config', 'uploadpack.allowFilter', 'true'], repo);
  await run(['git', 'repack', '-adq'], repo);
  writeFileSync(
    path.join(cache, 'ready.json'),
    JSON.stringify({ ...PARAMS, created: new Date().toISOString() }),
  );
  return repo;
}

/** One commit upstream that changes one file (about 2 KB). */
async function changeOneFile(repo: string, n: number): Promise<void> {
  const name = fileName(Math.floor(Math.random() * PARAMS.files));
  const content = fileContent(2048);
  await fastImport(repo, async (write) => {
    await write(commitHeader(`change ${n}`, Math.floor(Date.now() / 1000)));
    await write(`from refs/heads/main^0\nM 100644 inline ${name}\ndata ${content.length}\n`);
    await write(content);
    await write('\n\n');
  });
}

// ---------------------------------------------------------------------------------------------
// The run

async function main(): Promise<void> {
  if (args.includes('--lfs')) {
    await measureLfs();
    return;
  }
  const source = await ensureDataRepo();
  const work = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-sync-'));
  const port = await freeLoopbackPort();
  const daemon = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--listen=127.0.0.1',
      `--port=${port}`,
      `--base-path=${path.dirname(source)}`,
      '--export-all',
      path.dirname(source),
    ],
    { stdio: 'ignore', env: GIT_ENV },
  );
  const stopDaemon = () => {
    if (daemon.exitCode === null && daemon.pid !== undefined) daemon.kill('SIGTERM');
  };
  process.on('exit', stopDaemon);
  let proxy: TcpProxy | undefined;
  try {
    await waitForPort(port, 10_000);
    proxy = await startTcpProxy(port);
    await measure(source, work, `git://127.0.0.1:${proxy.port}/data.git`, proxy);
  } finally {
    await proxy?.close();
    stopDaemon();
    rmSync(work, { recursive: true, force: true });
  }
  console.log('');
  await measureLfs();
}

async function measure(source: string, work: string, url: string, proxy: TcpProxy): Promise<void> {
  const [gitVersion, size] = await Promise.all([
    run(['git', '--version']),
    run(['du', '-sh', source]),
  ]);
  console.log(
    `bench:sync: ${PARAMS.files.toLocaleString('en')} files, ~${PARAMS.megabytes} MB, ${PARAMS.tags} tags (repo ${size.split('\t')[0]}); ` +
      `git daemon on 127.0.0.1; medians of ${RUNS} runs; node ${process.version}, ${gitVersion}`,
  );

  // gitstrap: the engine, keep 1 (current + one previous + the idle folder it recycles).
  const dataDir = path.join(work, 'state', 'data');
  // Each git command the engine runs is timed, for a breakdown of where a publish goes.
  let steps: Record<string, number> = {};
  const exec: Exec = async (argv, options) => {
    const t0 = performance.now();
    const result = await execCommand(argv, options);
    const name =
      argv.find((a, i) => i > 0 && !a.startsWith('-') && argv[i - 1] !== '-c') ?? argv[0]!;
    steps[name] = (steps[name] ?? 0) + performance.now() - t0;
    return result;
  };
  const engine = createDataSync({
    dir: dataDir,
    data: dataSchema.parse({ repo: url, mount: 'data', keep: 1 }),
    logger: silentLogger,
    exec,
  });
  const cold = await engine.sync('startup');
  if (cold.outcome !== 'published') throw new Error(`cold sync: ${cold.error}`);
  console.log(
    `  gitstrap cold start (shallow fetch + full checkout): ${ms(cold.servedAfterMs ?? cold.durationMs)}`,
  );

  // The seed: a full clone (history, tags) and a served folder filled by cp -r.
  const clone = path.join(work, 'seed', 'clone');
  const live = path.join(work, 'seed', 'live');
  await run(['git', 'clone', '-q', url, clone]);
  const seedPublish = () =>
    run(
      [
        'sh',
        '-c',
        'git -c pull.rebase=false pull -q && rm -rf "$1" && mkdir -p "$1" && cp -r ./* "$1"/',
        'sh',
        live,
      ],
      clone,
    );
  await seedPublish();

  // Warm-up: two publishes, so gitstrap has an idle version folder to recycle (its steady state).
  for (let i = 0; i < 2; i++) {
    await changeOneFile(source, -i);
    const r = await engine.sync('manual');
    if (r.outcome !== 'published') throw new Error(`warm-up: ${r.error}`);
  }
  await run(['git', '-c', 'pull.rebase=false', 'pull', '-q'], clone);

  // One-file change: alternate which side goes first.
  const ours: number[] = [];
  const oursTotal: number[] = [];
  const seed: number[] = [];
  let reused = 0;
  const breakdown: Record<string, number[]> = {};
  for (let i = 0; i < RUNS; i++) {
    await changeOneFile(source, i + 1);
    const measureOurs = async () => {
      steps = {};
      const r = await engine.sync('manual');
      for (const [name, took] of Object.entries(steps)) (breakdown[name] ??= []).push(took);
      if (r.outcome !== 'published') throw new Error(`sync: ${r.error}`);
      ours.push(r.servedAfterMs ?? r.durationMs);
      oursTotal.push(r.durationMs);
      if (r.reusedFolder) reused++;
    };
    const measureSeed = async () => seed.push(await timed(seedPublish));
    if (i % 2) {
      await measureSeed();
      await measureOurs();
    } else {
      await measureOurs();
      await measureSeed();
    }
  }
  const diskOurs = await diskUsed(dataDir);
  const diskSeed = await diskUsed(clone, live);

  // Unchanged: everyone is up to date now.
  type Row = { wall: number[]; down: number[]; up: number[]; conns: number[] };
  const rows: Record<string, Row> = {};
  const sample = async (name: string, work: () => Promise<unknown>) => {
    const row = (rows[name] ??= { wall: [], down: [], up: [], conns: [] });
    proxy.resetCounters();
    row.wall.push(await timed(work));
    row.down.push(proxy.bytesDown);
    row.up.push(proxy.bytesUp);
    row.conns.push(proxy.connections);
  };
  // What a sync without its own ls-remote would cost when nothing changed: a fetch of the branch by
  // name into a shallow cache, kept shallow (--depth=1) as the engine's fetches are. Protocol v2
  // then still sends a fetch request (the deepen) after the ref listing: a pack-objects run on the
  // host for every poll, where ls-remote stops at the listing.
  const probe = path.join(work, 'probe.git');
  await run([
    'git',
    'clone',
    '-q',
    '--bare',
    '--depth=1',
    '--no-tags',
    '--single-branch',
    url,
    probe,
  ]);
  const probeFetch = [
    ...['git', '--git-dir', probe, '-c', 'maintenance.auto=false', '-c', 'gc.auto=0', 'fetch'],
    ...['-q', '--no-tags', '--no-write-fetch-head', '--depth=1', 'origin'],
    '+refs/heads/main:refs/heads/main',
  ];
  for (let i = 0; i < RUNS; i++) {
    await sample('gitstrap sync (unchanged)', async () => {
      const r = await engine.sync('schedule');
      if (r.outcome !== 'unchanged') throw new Error(`expected unchanged, got ${r.outcome}`);
    });
    await sample('git fetch origin main (tags followed)', () =>
      run(['git', 'fetch', '-q', 'origin', 'main'], clone),
    );
    await sample('git pull', () => run(['git', '-c', 'pull.rebase=false', 'pull', '-q'], clone));
    await sample('git fetch --no-tags origin main', () =>
      run(['git', 'fetch', '-q', '--no-tags', 'origin', 'main'], clone),
    );
    await sample('fetch by ref --depth=1 (no ls-remote)', () => run(probeFetch));
  }

  const pad = (s: string, n: number) => s.padEnd(n);
  const padl = (s: string, n: number) => s.padStart(n);
  console.log(
    '\nunchanged sync                          wall   received       sent  connections   vs gitstrap (received)',
  );
  const base = median(rows['gitstrap sync (unchanged)']!.down);
  for (const [name, row] of Object.entries(rows)) {
    const down = median(row.down);
    console.log(
      `  ${pad(name, 36)} ${padl(ms(median(row.wall)), 6)} ${padl(kb(down), 10)} ${padl(kb(median(row.up)), 10)} ${padl(String(median(row.conns)), 12)}   ${(down / base).toFixed(1)}x`,
    );
  }

  const oursMedian = median(ours);
  const seedMedian = median(seed);
  console.log('\none-file change: time until the new version is served');
  console.log(
    `  ${pad('gitstrap (recycled folder, one rename)', 44)} ${padl(ms(oursMedian), 9)}   (whole sync incl. prune: ${ms(median(oursTotal))}; ${reused}/${RUNS} reused a folder)`,
  );
  console.log(
    `    where it goes (medians): ${Object.entries(breakdown)
      .map(([name, xs]) => `${name} ${ms(median(xs))}`)
      .join(', ')}`,
  );
  console.log(
    `  ${pad('seed (git pull; rm -rf; cp -r)', 44)} ${padl(ms(seedMedian), 9)}   ${(seedMedian / oursMedian).toFixed(1)}x slower than gitstrap`,
  );
  console.log('\ndisk used');
  console.log(
    `  ${pad('gitstrap data dir (cache + 2 versions + idle folder)', 56)} ${padl(mb(diskOurs), 8)}`,
  );
  console.log(`  ${pad('seed (clone with .git + served copy)', 56)} ${padl(mb(diskSeed), 8)}`);

  const unchangedBytes =
    median(rows['gitstrap sync (unchanged)']!.down) + median(rows['gitstrap sync (unchanged)']!.up);
  const unchangedConns = median(rows['gitstrap sync (unchanged)']!.conns);
  const speedup = seedMedian / oursMedian;
  console.log(
    quick
      ? '\ntargets (calibrated for the full-size repo; --quick is a smoke check of the harness)'
      : '\ntargets',
  );
  console.log(
    `  unchanged sync < 2 KB in one connection: ${kb(unchangedBytes)} in ${unchangedConns} -> ${unchangedBytes < 2048 && unchangedConns === 1 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `  small change served >= 10x sooner than the seed: ${speedup.toFixed(1)}x -> ${speedup >= 10 ? 'PASS' : 'FAIL'}`,
  );
  // Issue 15: >= 40x in every round, not only by medians (each round ran both, back to back).
  const perRound = ours.map((o, i) => (seed[i] ?? NaN) / o);
  const worst = Math.min(...perRound);
  console.log(
    `  small change served >= 40x sooner than the seed in every round: ${perRound.map((r) => `${r.toFixed(1)}x`).join(', ')} (worst ${worst.toFixed(1)}x) -> ${worst >= 40 ? 'PASS' : 'FAIL'}`,
  );
  const resultFile = process.env.BENCH_RESULT_FILE;
  if (resultFile) {
    writeFileSync(
      resultFile,
      JSON.stringify({ params: PARAMS, runs: RUNS, rows, ours, seed, diskOurs, diskSeed }, null, 2),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Git LFS: one-object changes

const LFS_PARAMS = quick ? { objects: 20, kilobytes: 256 } : { objects: 100, kilobytes: 1024 };

async function measureLfs(): Promise<void> {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (f: () => unknown) => void cleanups.push(f) };
  const work = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-lfs-'));
  try {
    const repo = path.join(work, 'repos', 'data');
    mkdirSync(repo, { recursive: true });
    await run(['git', 'init', '-q', '-b', 'main'], repo);
    await run(['git', 'lfs', 'install', '--local'], repo);
    await run(['git', 'lfs', 'track', '*.bin'], repo);
    for (let i = 0; i < LFS_PARAMS.objects; i++) {
      const name = path.join(repo, `d${String(i % 10)}`, `object-${i}.bin`);
      mkdirSync(path.dirname(name), { recursive: true });
      writeFileSync(name, randomBytes(LFS_PARAMS.kilobytes * 1024));
    }
    writeFileSync(path.join(repo, 'index.json'), '{"objects":true}\n');
    await run(['git', 'add', '-A'], repo);
    await run(['git', 'commit', '-q', '-m', 'LFS objects'], repo);
    const server = await startGitLfsServer(t, path.join(work, 'repos'));
    server.storeFrom(repo);
    const gitVersion = await run(['git', '--version']);
    const lfsVersion = (await run(['git', 'lfs', 'version'])).split(' ')[0];
    console.log(
      `bench:sync --lfs: ${LFS_PARAMS.objects} LFS objects of ${LFS_PARAMS.kilobytes} KB (${mb(LFS_PARAMS.objects * LFS_PARAMS.kilobytes * 1024)}); ` +
        `git smart HTTP + LFS batch API on 127.0.0.1; ${RUNS} one-object changes; node ${process.version}, ${gitVersion}, ${lfsVersion}`,
    );
    const engine = createDataSync({
      dir: path.join(work, 'state', 'data'),
      data: dataSchema.parse({ repo: server.url('data'), mount: 'data', keep: 1, lfs: true }),
      logger: silentLogger,
    });
    const cold = await engine.sync('startup');
    if (cold.outcome !== 'published') throw new Error(`cold sync: ${cold.error}`);
    console.log(
      `  cold start: ${server.downloaded().length} objects downloaded, served after ${ms(cold.servedAfterMs ?? cold.durationMs)}`,
    );
    const served: number[] = [];
    const downloads: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const index = Math.floor(Math.random() * LFS_PARAMS.objects);
      const file = `d${String(index % 10)}/object-${index}.bin`;
      writeFileSync(path.join(repo, file), randomBytes(LFS_PARAMS.kilobytes * 1024));
      await run(['git', 'commit', '-q', '-am', `change ${i}`], repo);
      server.storeFrom(repo);
      const before = server.downloaded().length;
      const r = await engine.sync('manual');
      if (r.outcome !== 'published') throw new Error(`sync ${i}: ${r.error}`);
      const got = server.downloaded().slice(before);
      downloads.push(got.length);
      served.push(r.servedAfterMs ?? r.durationMs);
      console.log(
        `  change ${i} (${file}): ${got.length} object downloaded (${got.map((o) => o.slice(0, 12)).join(', ')}), lfs.downloaded=${r.lfs?.downloaded}, served after ${ms(r.servedAfterMs ?? r.durationMs)}${r.reusedFolder ? ', folder reused' : ''}`,
      );
    }
    console.log(
      `  one-object change: median ${ms(median(served))} until served; objects downloaded per change: ${downloads.join(', ')}`,
    );
    const one = downloads.every((n) => n === 1);
    console.log(`\ntargets\n  a one-object change downloads one object: ${one ? 'PASS' : 'FAIL'}`);
  } finally {
    for (const f of cleanups.reverse()) await f();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

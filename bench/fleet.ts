// `npm run bench:fleet`: what a fleet of agents pulling one data repo costs the place the data comes
// from. A fleet of N instances polling every P (10,000 at 5 minutes = 33 polls/s) is simulated by E
// real sync engines (data-sync's createDataSync, each with its own data folder: the real ls-remote,
// shallow fetch by SHA, checkout and swap) fed by open-loop Poisson arrivals at the fleet's rate,
// against each source, measured on the source (servers pinned to CPU 0, the fleet to CPU 1):
//
//   - unchanged polls: CPU-seconds per 1,000 polls of the source's whole process tree (read from
//     /proc, children like git-upload-pack and git-http-backend included), bytes per poll (both ways,
//     through a byte-counting proxy), and the largest fleet one source core holds at the period;
//   - a one-file change: source CPU and bytes per fetch (every engine fetches it, arriving at the
//     rate the fleet's jitter spreads them), the engines' sync time, and the time until all N serve
//     it, from a model of the rest of the fleet (bench/fleet/model.ts: per-instance jitter delays as
//     data-sync's schedule picks them, a one-core source serving fetches in turn at the measured CPU
//     per fetch).
//
// Sources: `git daemon` (git://); git smart HTTP (`git http-backend` behind nginx via fcgiwrap), plain
// and over TLS; the static source as gitstrap runs it: the publisher's mirror (src/publish/mirror.ts)
// served by nginx and read by E real engines with data.source.static (their own conditional GET,
// bundle download, checks, git fetch from the bundle, checkout and swap). With plain HTTP clients,
// the static variants: a conditional GET of a small pointer file (If-None-Match -> 304) over HTTP,
// over TLS with a new session per poll (a new process per poll, as git's curl does) and with the TLS
// session resumed (a long-lived agent process); for a change, the pointer (200) plus an incremental
// git bundle, and a full GET of a bundle of one version (a cold start).
//
//   npm run bench:fleet [-- --fleet 10000] [-- --period 5m] [-- --jitter 5m] [-- --seconds 30]
//                       [-- --engines 24] [-- --changes 3] [-- --quick]
//   BENCH_RESULT_FILE=fleet.json npm run bench:fleet; npm run bench:fleet -- --report fleet.json
//
// Targets: 10,000 instances at a 5-minute period under 0.1 core on at least one source; a one-file
// change reaches every instance within jitter + 60 s; an unchanged poll under 1 KB.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createDataSync, type DataSync, type SyncResult } from '../data-sync/src/index.js';
import { durationMs } from '../src/lib/duration.js';
import { silentLogger } from '../src/lib/log.js';
import { createPublishGit } from '../src/publish/git-runner.js';
import { updateMirror } from '../src/publish/mirror.js';
import { data as dataSchema } from '../src/recipe/schema.js';
import type { TcpProxy } from '../test/data-sync/tcp-proxy.js';
import {
  changeOneFile,
  makeDataRepo,
  publishStatic,
  run,
  type StaticVersion,
} from './fleet/data-repo.js';
import { median, quantile, runOpenLoop, seededRandom } from './fleet/load.js';
import { simulateRollout } from './fleet/model.js';
import { createCpuMeter, measureExecCost, type CpuMeter } from './fleet/cpu-meter.js';
import { startSources, need, type Sources } from './fleet/sources.js';

// ---------------------------------------------------------------------------------------------
// Parameters

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const quick = args.includes('--quick');
const FLEET = Number(arg('fleet', '10000'));
const PERIOD_MS = durationMs(arg('period', '5m'));
const JITTER_MS = durationMs(arg('jitter', arg('period', '5m')));
const SECONDS = Number(arg('seconds', quick ? '8' : '30'));
const ENGINES = Number(arg('engines', quick ? '8' : '24'));
const CHANGES = Number(arg('changes', quick ? '2' : '3'));
const REPO = { files: 300, fileBytes: 8192, tags: 100 };
const SEED = Number(process.env.BENCH_SEED ?? 1);
/**
 * The most polls/s the real engines are offered: on a 2-core machine the fleet's side (a node
 * engine and a git process per poll) cannot make 33/s on its one core. A poll's cost on the source
 * is its own connection and processes, whatever the rate, so it is measured at this rate and
 * scaled; the static rows (plain HTTP clients) run at the fleet's full rate.
 */
const CLIENT_RATE = Number(arg('client-rate', '10'));
const POLL_RATE = (FLEET * 1000) / PERIOD_MS;
/** The rate at which a fleet's fetches of one change arrive: N spread over the jitter window. */
const FETCH_RATE = JITTER_MS > 0 ? Math.min((FLEET * 1000) / JITTER_MS, 200) : 200;
const random = seededRandom(SEED);

// ---------------------------------------------------------------------------------------------
// What each source measured

interface PollFigures {
  cpuS: number;
  polls: number;
  /** The rate the polls came at (per second). */
  rate: number;
  bytes: number;
  connections: number;
  latencies: number[];
  queued: number;
  note?: string;
}

interface ChangeFigures {
  cpuPerFetchS: number[];
  bytesPerFetch: number[];
  syncMs: number[];
}

interface Row {
  name: string;
  /** static-engine: the real engine reading the mirror (data.source.static); its sync is measured. */
  kind: 'git' | 'static' | 'static-engine';
  poll?: PollFigures;
  change: ChangeFigures;
}

// ---------------------------------------------------------------------------------------------
// Runs in its own process pinned to CPU 1 (the servers have CPU 0)

if (args.includes('--report')) {
  const saved = JSON.parse(readFileSync(arg('report', ''), 'utf8')) as {
    rows: Row[];
    version: StaticVersion;
  };
  report(saved.rows, saved.version);
} else if (process.env.GITSTRAP_BENCH_FLEET_PINNED !== '1') {
  const taskset = need('taskset', 'util-linux');
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    taskset,
    ['-c', '1', process.execPath, '--import', 'tsx', self, ...args],
    { stdio: 'inherit', env: { ...process.env, GITSTRAP_BENCH_FLEET_PINNED: '1' } },
  );
  process.exit(child.status ?? 1);
} else {
  await main();
}

async function main(): Promise<void> {
  if (os.cpus().length < 2)
    console.warn('warning: fewer than 2 CPUs; the servers share one with the fleet');
  const work = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-fleet-'));
  const meter = createCpuMeter(path.basename(work));
  let sources: Sources | undefined;
  const onSignal = () => {
    void sources?.stop().finally(() => {
      meter.close();
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const reposDir = path.join(work, 'repos');
    mkdirSync(reposDir, { recursive: true });
    const repo = await makeDataRepo(reposDir, REPO);
    sources = await startSources(work, reposDir, meter);
    await measure(work, repo, sources, meter);
  } finally {
    await sources?.stop();
    meter.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function measure(
  work: string,
  repo: string,
  sources: Sources,
  meter: CpuMeter,
): Promise<void> {
  const gitVersion = await run(['git', '--version']);
  const execMs = measureExecCost(meter);
  const nginxVersion = (spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr ?? '').trim();
  console.log(
    `bench:fleet: ${FLEET.toLocaleString('en')} instances polling every ${fmtDuration(PERIOD_MS)} (${POLL_RATE.toFixed(1)} polls/s), ` +
      `jitter ${fmtDuration(JITTER_MS)} (a change's fetches arrive at ${FETCH_RATE.toFixed(1)}/s); ` +
      `${ENGINES} real sync engines per git source, offered up to ${CLIENT_RATE}/s; ${CHANGES} one-file changes`,
  );
  console.log(
    `  data repo: ${REPO.files} files (~${((REPO.files * REPO.fileBytes) / 1024 / 1024).toFixed(1)} MB), ${REPO.tags} tags; ` +
      `servers on CPU 0, fleet on CPU 1; node ${process.version}, ${gitVersion}, ${nginxVersion.replace('nginx version: ', '')}`,
  );
  console.log(
    `  source CPU from ${meter.kind}; starting git (git --version) costs ${execMs === undefined ? '?' : execMs.toFixed(1)} ms of CPU on this machine; a poll starts 2 git processes on git daemon, 4 on smart HTTP, none on nginx`,
  );

  const gitSources: Array<{
    name: string;
    url: string;
    proxy: TcpProxy;
    gitEnv?: NodeJS.ProcessEnv;
  }> = [
    { name: 'git daemon (git://)', url: sources.gitUrl('data.git'), proxy: sources.daemonProxy },
    {
      name: 'smart HTTP (http-backend)',
      url: sources.httpUrl('data.git'),
      proxy: sources.httpProxy,
    },
    {
      name: 'smart HTTPS (http-backend, TLS)',
      url: sources.httpsUrl('data.git'),
      proxy: sources.httpsProxy,
      gitEnv: { GIT_SSL_CAINFO: sources.caFile },
    },
  ];
  const rows: Row[] = [];
  const engines = new Map<string, DataSync[]>();

  // Cold start of every engine (not measured), then each source's unchanged polls.
  process.stderr.write('  starting the engines (one cold sync each) ...\n');
  for (const [index, source] of gitSources.entries()) {
    const list: DataSync[] = [];
    for (let i = 0; i < ENGINES; i++) {
      list.push(
        createDataSync({
          dir: path.join(work, 'engines', String(index), String(i), 'data'),
          data: dataSchema.parse({ repo: source.url, mount: 'data', keep: 1 }),
          logger: silentLogger,
          ...(source.gitEnv ? { gitEnv: source.gitEnv } : {}),
        }),
      );
    }
    for (let i = 0; i < list.length; i += 4) {
      const batch = await Promise.all(list.slice(i, i + 4).map((e) => e.sync('startup')));
      for (const r of batch)
        if (r.outcome !== 'published') throw new Error(`${source.name}: cold sync: ${r.error}`);
    }
    engines.set(source.name, list);
  }

  const cpu = () => meter.seconds();
  const gitPollRate = Math.min(POLL_RATE, CLIENT_RATE);
  const gitFetchRate = Math.min(FETCH_RATE, CLIENT_RATE);
  const settle = () => new Promise((r) => setTimeout(r, 300));
  const pollCount = Math.max(50, Math.round(POLL_RATE * SECONDS));
  const gitPollCount = Math.max(50, Math.round(gitPollRate * SECONDS));

  for (const source of gitSources) {
    process.stderr.write(`  unchanged polls: ${source.name} ...\n`);
    const list = engines.get(source.name)!;
    await list[0]!.sync('schedule');
    const clients = list.map((engine) => async () => {
      const r = await engine.sync('schedule');
      if (r.outcome !== 'unchanged')
        throw new Error(`${source.name}: expected unchanged, got ${r.outcome}: ${r.error}`);
      return r;
    });
    await settle();
    source.proxy.resetCounters();
    const before = cpu();
    const load = await runOpenLoop({
      clients,
      ratePerSecond: gitPollRate,
      count: gitPollCount,
      random,
    });
    await settle();
    rows.push({
      name: source.name,
      kind: 'git',
      poll: {
        cpuS: cpu() - before,
        polls: gitPollCount,
        rate: gitPollCount / (load.wallMs / 1000),
        bytes: source.proxy.bytesUp + source.proxy.bytesDown,
        connections: source.proxy.connections,
        latencies: load.latencies,
        queued: load.queued,
      },
      change: { cpuPerFetchS: [], bytesPerFetch: [], syncMs: [] },
    });
  }

  // The static source: the pointer file and bundles of the current version.
  let version: StaticVersion = await publishStatic(repo, sources.staticRoot, undefined);
  const staticRows = {
    plain: { name: 'static 304 (nginx, HTTP)', tls: false, resume: false },
    fresh: { name: 'static 304 (nginx, TLS, new session)', tls: true, resume: false },
    resumed: { name: 'static 304 (nginx, TLS, resumed)', tls: true, resume: true },
  };
  const ca = readFileSync(sources.caFile);
  const resumingAgent = new https.Agent({ keepAlive: false, maxCachedSessions: 100, ca });
  const requester =
    (tls: boolean, resume: boolean) => (url: string, headers: Record<string, string>) =>
      get(
        url,
        headers,
        tls ? (resume ? { agent: resumingAgent } : { agent: false, ca }) : { agent: false },
      );

  for (const variant of Object.values(staticRows)) {
    process.stderr.write(`  unchanged polls: ${variant.name} ...\n`);
    const proxy = variant.tls ? sources.httpsProxy : sources.httpProxy;
    const request = requester(variant.tls, variant.resume);
    const url = sources.staticUrl(version.pointer, variant.tls);
    const first = await request(url, {});
    if (first.status !== 200 || !first.etag) throw new Error(`${url}: ${first.status}, no ETag`);
    let reused = 0;
    const clients = Array.from({ length: 32 }, () => async () => {
      const r = await request(url, { 'If-None-Match': first.etag! });
      if (r.status !== 304) throw new Error(`${url} answered ${r.status}, not 304`);
      if (r.reused) reused++;
      return r;
    });
    await settle();
    proxy.resetCounters();
    const before = cpu();
    const load = await runOpenLoop({ clients, ratePerSecond: POLL_RATE, count: pollCount, random });
    await settle();
    rows.push({
      name: variant.name,
      kind: 'static',
      poll: {
        cpuS: cpu() - before,
        polls: pollCount,
        rate: pollCount / (load.wallMs / 1000),
        bytes: proxy.bytesUp + proxy.bytesDown,
        connections: proxy.connections,
        latencies: load.latencies,
        queued: load.queued,
        ...(variant.tls ? { note: `${reused}/${pollCount} sessions resumed` } : {}),
      },
      change: { cpuPerFetchS: [], bytesPerFetch: [], syncMs: [] },
    });
  }

  // The static source read by the real engine (data.source.static), from the publisher's mirror.
  const mirrorDir = path.join(sources.staticRoot, 'mirror');
  const mirrorGit = createPublishGit({ repo, defaultTimeoutMs: 10 * 60_000 });
  const writeMirror = async () =>
    updateMirror(mirrorGit, {
      dir: mirrorDir,
      cache: repo,
      scratch: path.join(work, 'mirror-scratch.git'),
      branch: 'main',
      commit: await run(['git', 'rev-parse', 'refs/heads/main'], repo),
      now: new Date(),
    });
  await writeMirror();
  const engineRowName = 'static source (gitstrap engine, HTTP)';
  const staticEngines: DataSync[] = [];
  process.stderr.write(`  unchanged polls: ${engineRowName} ...\n`);
  for (let i = 0; i < ENGINES; i++) {
    staticEngines.push(
      createDataSync({
        dir: path.join(work, 'engines', 'static', String(i), 'data'),
        data: dataSchema.parse({
          repo: sources.gitUrl('data.git'),
          mount: 'data',
          keep: 1,
          source: { static: sources.staticUrl('mirror/', false) },
        }),
        logger: silentLogger,
      }),
    );
  }
  for (let i = 0; i < staticEngines.length; i += 4) {
    const batch = await Promise.all(staticEngines.slice(i, i + 4).map((e) => e.sync('startup')));
    for (const r of batch)
      if (r.outcome !== 'published') throw new Error(`${engineRowName}: cold sync: ${r.error}`);
  }
  {
    // Each engine's first schedule poll downloads the pointer once more (its ETag is then kept).
    for (const engine of staticEngines) await engine.sync('schedule');
    const clients = staticEngines.map((engine) => async () => {
      const r = await engine.sync('schedule');
      if (r.outcome !== 'unchanged')
        throw new Error(`${engineRowName}: expected unchanged, got ${r.outcome}: ${r.error}`);
      return r;
    });
    await settle();
    sources.httpProxy.resetCounters();
    const before = cpu();
    const load = await runOpenLoop({ clients, ratePerSecond: POLL_RATE, count: pollCount, random });
    await settle();
    rows.push({
      name: engineRowName,
      kind: 'static-engine',
      poll: {
        cpuS: cpu() - before,
        polls: pollCount,
        rate: pollCount / (load.wallMs / 1000),
        bytes: sources.httpProxy.bytesUp + sources.httpProxy.bytesDown,
        connections: sources.httpProxy.connections,
        latencies: load.latencies,
        queued: load.queued,
      },
      change: { cpuPerFetchS: [], bytesPerFetch: [], syncMs: [] },
    });
  }

  // One-file changes: every engine fetches each one, arriving at the fleet's rate under its jitter.
  const fullRow: Row = {
    name: 'static full bundle GET (cold start)',
    kind: 'static',
    change: { cpuPerFetchS: [], bytesPerFetch: [], syncMs: [] },
  };
  const byName = (name: string) => rows.find((r) => r.name === name)!;
  for (let round = 1; round <= CHANGES; round++) {
    const previous = version;
    const commit = await changeOneFile(repo, REPO.files, round);
    version = await publishStatic(repo, sources.staticRoot, previous.commit);
    process.stderr.write(`  change ${round}/${CHANGES} (${commit.slice(0, 12)}) ...\n`);
    const order = round % 2 ? gitSources : [...gitSources].reverse();
    for (const source of order) {
      const list = engines.get(source.name)!;
      const clients = list.map((engine) => async () => {
        const r: SyncResult = await engine.sync('schedule');
        if (r.outcome !== 'published' || r.commit !== commit) {
          throw new Error(
            `${source.name}: expected ${commit} published, got ${r.outcome} ${r.commit}: ${r.error}`,
          );
        }
        return r;
      });
      await settle();
      source.proxy.resetCounters();
      const before = cpu();
      // Each engine takes one arrival: all of them fetch the change once.
      const load = await runOpenLoop({
        clients,
        ratePerSecond: gitFetchRate,
        count: list.length,
        oncePerClient: true,
        random,
      });
      await settle();
      const row = byName(source.name).change;
      row.cpuPerFetchS.push((cpu() - before) / list.length);
      row.bytesPerFetch.push((source.proxy.bytesUp + source.proxy.bytesDown) / list.length);
      row.syncMs.push(median(load.results.map((r) => r.durationMs)));
    }
    // The real engines on the mirror: the pointer (200), the incremental bundle, git, the swap.
    {
      await writeMirror();
      const clients = staticEngines.map((engine) => async () => {
        const r: SyncResult = await engine.sync('schedule');
        if (r.outcome !== 'published' || r.commit !== commit) {
          throw new Error(
            `${engineRowName}: expected ${commit} published, got ${r.outcome} ${r.commit}: ${r.error}`,
          );
        }
        return r;
      });
      await settle();
      sources.httpProxy.resetCounters();
      const before = cpu();
      const load = await runOpenLoop({
        clients,
        ratePerSecond: gitFetchRate,
        count: staticEngines.length,
        oncePerClient: true,
        random,
      });
      await settle();
      const row = byName(engineRowName).change;
      row.cpuPerFetchS.push((cpu() - before) / staticEngines.length);
      row.bytesPerFetch.push(
        (sources.httpProxy.bytesUp + sources.httpProxy.bytesDown) / staticEngines.length,
      );
      row.syncMs.push(median(load.results.map((r) => r.durationMs)));
    }
    // Static: the pointer (its ETag changed: 200) and the incremental bundle it names.
    for (const variant of Object.values(staticRows)) {
      const proxy = variant.tls ? sources.httpsProxy : sources.httpProxy;
      const request = requester(variant.tls, variant.resume);
      const pointerUrl = sources.staticUrl(version.pointer, variant.tls);
      const bundleUrl = sources.staticUrl(version.incremental!, variant.tls);
      const clients = Array.from({ length: ENGINES }, () => async () => {
        const t0 = performance.now();
        const p = await request(pointerUrl, { 'If-None-Match': '"stale"' });
        const b = await request(bundleUrl, {});
        if (p.status !== 200 || b.status !== 200 || b.bytes !== version.incrementalBytes) {
          throw new Error(
            `${variant.name}: pointer ${p.status}, bundle ${b.status} (${b.bytes} bytes)`,
          );
        }
        return performance.now() - t0;
      });
      await settle();
      proxy.resetCounters();
      const before = cpu();
      const load = await runOpenLoop({
        clients,
        ratePerSecond: FETCH_RATE,
        count: ENGINES,
        oncePerClient: true,
        random,
      });
      await settle();
      const row = byName(variant.name).change;
      row.cpuPerFetchS.push((cpu() - before) / ENGINES);
      row.bytesPerFetch.push((proxy.bytesUp + proxy.bytesDown) / ENGINES);
      row.syncMs.push(median(load.results));
    }
    {
      const request = requester(false, false);
      const url = sources.staticUrl(version.full, false);
      const clients = Array.from({ length: ENGINES }, () => async () => {
        const t0 = performance.now();
        const b = await request(url, {});
        if (b.status !== 200 || b.bytes !== version.fullBytes)
          throw new Error(`${url}: ${b.status} (${b.bytes} bytes)`);
        return performance.now() - t0;
      });
      await settle();
      sources.httpProxy.resetCounters();
      const before = cpu();
      const load = await runOpenLoop({
        clients,
        ratePerSecond: FETCH_RATE,
        count: ENGINES,
        oncePerClient: true,
        random,
      });
      await settle();
      fullRow.change.cpuPerFetchS.push((cpu() - before) / ENGINES);
      fullRow.change.bytesPerFetch.push(
        (sources.httpProxy.bytesUp + sources.httpProxy.bytesDown) / ENGINES,
      );
      fullRow.change.syncMs.push(median(load.results));
    }
  }
  rows.push(fullRow);
  // BENCH_RESULT_FILE keeps the figures; `--report FILE` prints the tables from them again.
  const resultFile = process.env.BENCH_RESULT_FILE;
  if (resultFile) writeFileSync(resultFile, JSON.stringify({ rows, version }, null, 2));
  report(rows, version);
}

// ---------------------------------------------------------------------------------------------
// The tables

function report(rows: Row[], version: StaticVersion): void {
  const per1000 = (p: PollFigures) => (p.cpuS / p.polls) * 1000;
  const coreFor = (p: PollFigures) => (p.cpuS / p.polls) * POLL_RATE;
  const maxFleet = (p: PollFigures) =>
    p.cpuS > 0 ? Math.floor(PERIOD_MS / 1000 / (p.cpuS / p.polls)) : Infinity;

  console.log(
    `\nunchanged polls (the fleet's rate is ${POLL_RATE.toFixed(1)}/s; git rows measured at the rate shown and scaled: a poll costs the source its own connection and processes)`,
  );
  table(
    [
      'source',
      'polls',
      'CPU-s/1000 polls',
      'bytes/poll',
      'conns/poll',
      'poll p50',
      'p99',
      `core for ${short(FLEET)}@${fmtDuration(PERIOD_MS)}`,
      `fleet/core @${fmtDuration(PERIOD_MS)}`,
    ],
    rows
      .filter((r) => r.poll)
      .map((r) => {
        const p = r.poll!;
        return [
          r.name,
          `${p.polls} @${p.rate.toFixed(1)}/s`,
          per1000(p).toFixed(2),
          (p.bytes / p.polls).toFixed(0),
          (p.connections / p.polls).toFixed(2),
          `${median(p.latencies).toFixed(0)} ms`,
          `${quantile(p.latencies, 0.99).toFixed(0)} ms`,
          coreFor(p).toFixed(3),
          maxFleet(p) === Infinity ? '(below resolution)' : maxFleet(p).toLocaleString('en'),
        ];
      }),
  );
  console.log(
    "  poll p50/p99 count from the poll's arrival: with the fleet's side on one core, git polls also wait for a free engine (arrivals that waited are counted below)",
  );
  for (const r of rows) {
    if (r.poll?.note || r.poll?.queued) {
      console.log(
        `  ${r.name}: ${[r.poll.note, r.poll.queued ? `${r.poll.queued} arrivals waited for a client` : undefined].filter(Boolean).join('; ')}`,
      );
    }
  }

  const daemonRow = rows.find((r) => r.name.startsWith('git daemon'))!;
  const clientMs = median(daemonRow.change.syncMs);
  console.log(
    `\none-file change (medians of ${daemonRow.change.cpuPerFetchS.length}; every client fetches it once, arriving at ${Math.min(FETCH_RATE, CLIENT_RATE).toFixed(1)}/s, static ${FETCH_RATE.toFixed(1)}/s); ` +
      `rollout to ${short(FLEET)} modelled: one source core, jitter ${fmtDuration(JITTER_MS)} and none`,
  );
  const rollout = (r: Row, jitterMs: number) => {
    // The git rows and the static engine's measured their whole sync; the plain static clients
    // only their GETs.
    const syncMs =
      r.kind === 'static' ? clientMs + median(r.change.syncMs) : median(r.change.syncMs);
    return simulateRollout({
      instances: FLEET,
      jitterMs,
      fetchCpuS: median(r.change.cpuPerFetchS),
      syncMs,
      cores: 1,
      random: seededRandom(SEED + 7),
    });
  };
  table(
    [
      'source',
      'CPU ms/fetch',
      'bytes/fetch',
      'client sync',
      `all served (jitter ${fmtDuration(JITTER_MS)})`,
      'beyond jitter',
      'cores to keep up',
      'all served (no jitter)',
      'peak in flight',
    ],
    rows.map((r) => {
      const c = r.change;
      const spread = rollout(r, JITTER_MS);
      const herd = rollout(r, 0);
      // The cores that serve every fetch of the change within the jitter window.
      const keepUp = JITTER_MS > 0 ? (FLEET * median(c.cpuPerFetchS) * 1000) / JITTER_MS : NaN;
      return [
        r.kind === 'static' && r.poll
          ? r.name.replace('static 304', 'static pointer + bundle')
          : r.name,
        (median(c.cpuPerFetchS) * 1000).toFixed(1),
        median(c.bytesPerFetch).toFixed(0),
        `${median(c.syncMs).toFixed(0)} ms`,
        fmtDuration(spread.lastServedMs),
        `${((spread.lastServedMs - JITTER_MS) / 1000).toFixed(1)} s`,
        keepUp.toFixed(2),
        fmtDuration(herd.lastServedMs),
        herd.peakConcurrent.toLocaleString('en'),
      ];
    }),
  );
  console.log(
    `  plain static rows: the client's own work (unbundle, checkout, swap) taken as the git daemon engines' sync (${clientMs.toFixed(0)} ms) plus the GETs; ` +
      `pointer ${version.pointerBytes} B, incremental bundle ${version.incrementalBytes} B, full bundle ${(version.fullBytes / 1024).toFixed(0)} KB`,
  );

  console.log('\ntargets');
  const polled = rows.filter((r) => r.poll);
  const cheap = polled.filter((r) => coreFor(r.poll!) < 0.1);
  console.log(
    `  ${short(FLEET)} instances at ${fmtDuration(PERIOD_MS)} under 0.1 core on at least one source: ${cheap.length ? 'PASS' : 'FAIL'} (${polled
      .map((r) => `${r.name}: ${coreFor(r.poll!).toFixed(3)}`)
      .join(', ')})`,
  );
  const late = rows.filter((r) => rollout(r, JITTER_MS).lastServedMs - JITTER_MS > 60_000);
  console.log(
    `  one-file change everywhere within jitter + 60 s: ${late.length === 0 ? 'PASS' : `FAIL for ${late.map((r) => r.name).join(', ')}`} (modelled, one source core)`,
  );
  const small = polled.filter((r) => r.poll!.bytes / r.poll!.polls < 1024);
  console.log(
    `  unchanged poll under 1 KB: ${small.length === polled.length ? 'PASS' : `PASS for ${small.map((r) => r.name).join(', ') || 'none'}`} (${polled
      .map((r) => `${r.name}: ${(r.poll!.bytes / r.poll!.polls).toFixed(0)} B`)
      .join(', ')})`,
  );
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

function fmtDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

function short(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString('en');
}

// ---------------------------------------------------------------------------------------------
// A GET on a fresh connection (agents poll minutes apart: nothing to keep alive)

interface Answer {
  status: number;
  etag?: string;
  bytes: number;
  reused: boolean;
}

function get(
  url: string,
  headers: Record<string, string>,
  options: { agent: http.Agent | false; ca?: Buffer },
): Promise<Answer> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers, timeout: 30_000, ...options }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => {
        const socket = res.socket as { isSessionReused?: () => boolean } | null;
        resolve({
          status: res.statusCode ?? 0,
          ...(typeof res.headers.etag === 'string' ? { etag: res.headers.etag } : {}),
          bytes,
          reused: socket?.isSessionReused?.() ?? false,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

// Boot benchmark (npm run bench:boot [-- --runs N] [-- --only VARIANT[,VARIANT...]]
// [-- --baseline REF]): time from QEMU start to the first 200 from the service, for gitstrap's
// user-data against a hand-written minimal cloud-config that only clones the service and starts it
// (the lower bound), side by side, with the boot stages seen on the serial console and
// `cloud-init analyze blame` from the guest.
// gitstrap boots once per agent source: `gitstrap` gets the agent bundle by URL and sha256 from a
// host file server, `gitstrap-npm` the default npm source from a real registry (verdaccio) on the
// host serving `npm pack` of this checkout. Target (issue 15): gitstrap's boot-to-serve within 1.1x
// the minimum. Boots run one at a time, alternating.
// --only runs just the named variants (comma-separated: minimal, gitstrap, gitstrap-baseline,
// gitstrap-npm). --baseline REF (a commit-ish of this repo, e.g. 1c6e890^) adds
// `gitstrap-baseline`: the same recipe and bundle-by-URL source as `gitstrap`, but the user-data
// rendered by the CLI as it was at REF and the agent bundle built at REF (a detached git worktree
// in the run's temporary folder, npm ci there, or this checkout's node_modules linked when REF's
// package-lock.json is the same, then npm run build; the worktree is removed afterwards, nothing
// is cached between runs but npm's own cache). The report adds gitstrap / gitstrap-baseline by
// medians and per run, target no worse (<= 1.05x): the before/after of a change in one run.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AGENT_BUNDLE, runCli } from '../test/helpers/cli.js';
import { makeRepo, startGitDaemon } from '../test/helpers/git.js';
import { packGitstrap, startRegistry } from '../test/helpers/registry.js';
import { runToEnd } from '../test/helpers/proc.js';
import { projectRoot } from '../test/helpers/tools.js';
import {
  BOOT_STAGES,
  findAgentTimeline,
  findBootStages,
  findFirstBootSteps,
  type AgentMark,
  type BootStage,
  type FirstBootStep,
} from '../test/vm/boot-stages.js';
import { startVm } from '../test/vm/harness.js';
import { startFileServer, toGuestUrl } from '../test/vm/host-servers.js';
import { ensureImage } from '../test/vm/image.js';
import {
  MINIMAL_SERVICE_PORT,
  makeMinimalService,
  planMinimalUserData,
} from '../test/vm/minimal-service.js';

const TARGET_RATIO = 1.1;
/** gitstrap against its own baseline (--baseline): no worse, within noise. */
const BASELINE_TARGET_RATIO = 1.05;
const SERVE_TIMEOUT_MS = 15 * 60_000;

type Variant = 'minimal' | 'gitstrap' | 'gitstrap-baseline' | 'gitstrap-npm';
const VARIANTS: readonly Variant[] = ['minimal', 'gitstrap', 'gitstrap-baseline', 'gitstrap-npm'];
type GitstrapVariant = Exclude<Variant, 'minimal'>;
const GITSTRAP_VARIANTS: readonly GitstrapVariant[] = [
  'gitstrap',
  'gitstrap-baseline',
  'gitstrap-npm',
];
/** The URL name of REF's agent bundle on the host file server. */
const BASELINE_BUNDLE_NAME = 'gitstrap-agent-baseline.cjs';

/** The checkout at --baseline REF, built: its CLI entry and its agent bundle. */
interface Baseline {
  ref: string;
  commit: string;
  root: string;
  bin: string;
  bundle: string;
}

/** A failure to report as one line (then `detail`, indented, if any) and exit `code`, no stack. */
class Fatal extends Error {
  constructor(
    message: string,
    readonly detail = '',
    readonly code = 1,
  ) {
    super(message);
  }
}

interface Run {
  firstOkMs: number;
  stages: Partial<Record<BootStage, number>>;
  steps: FirstBootStep[];
  agent: AgentMark[];
  cloudInitStatus: string;
  blame: string;
}

/** Runs registered cleanups in reverse order (the harness's `t.after`, outside a test). */
class Cleanups {
  private readonly fns: (() => unknown)[] = [];
  after(fn: () => unknown): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) await fn();
  }
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  console.error(`bench:boot: --runs expects a whole number from 1 to 20, got ${values.runs}`);
  process.exit(2);
}
const baselineRef = values.baseline;
if (baselineRef !== undefined && baselineRef.trim() === '') {
  console.error(
    'bench:boot: --baseline expects a commit-ish of this repo (e.g. 1c6e890^), got an empty string',
  );
  process.exit(2);
}
/** The variants to boot: --only's list, else every variant (gitstrap-baseline with --baseline). */
const only: readonly Variant[] =
  values.only === undefined
    ? VARIANTS.filter((v) => v !== 'gitstrap-baseline' || baselineRef !== undefined)
    : parseOnly(values.only);
if (only.includes('gitstrap-baseline') && baselineRef === undefined) {
  console.error(
    'bench:boot: --only gitstrap-baseline needs --baseline REF (the commit-ish to compare with, e.g. --baseline 1c6e890^)',
  );
  process.exit(2);
}
if (baselineRef !== undefined && !only.includes('gitstrap-baseline')) {
  console.error(
    `bench:boot: --baseline ${baselineRef} boots gitstrap-baseline, which --only ${values.only ?? ''} leaves out: add gitstrap-baseline to --only or drop --baseline`,
  );
  process.exit(2);
}
/** The report's columns: every variant, the baseline only when asked for. */
const shown = VARIANTS.filter((v) => v !== 'gitstrap-baseline' || baselineRef !== undefined);

const session = new Cleanups();
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  void session.run().then(() => process.exit(130));
});
try {
  await main();
} catch (error) {
  if (!(error instanceof Fatal)) throw error;
  // A command killed by the same Ctrl-C is no failure to report: the SIGINT handler cleans up
  // and exits 130.
  if (!interrupted) {
    console.error(`bench:boot: ${error.message}`);
    if (error.detail) console.error(error.detail.replace(/^/gm, '  '));
    process.exitCode = error.code;
  }
} finally {
  await session.run();
}

/** --only's comma-separated list of variants, each checked; exits 2 on a name it does not know. */
function parseOnly(list: string): Variant[] {
  const names = list.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => n !== '' && !VARIANTS.includes(n as Variant));
  if (names.length === 0 || names.includes('') || unknown.length > 0) {
    const bad = unknown.length > 0 ? unknown.join(', ') : JSON.stringify(list);
    console.error(
      `bench:boot: --only expects a comma-separated list of ${VARIANTS.join(', ')}, got ${bad}: e.g. --only minimal,gitstrap`,
    );
    process.exit(2);
  }
  return VARIANTS.filter((v) => names.includes(v));
}

async function main(): Promise<void> {
  // A REF git does not know fails before anything is built or booted.
  const baselineCommit = baselineRef === undefined ? undefined : await resolveRef(baselineRef);
  const image = await ensureImage();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-boot-'));
  session.after(() => rmSync(dir, { recursive: true, force: true }));
  const baseline =
    baselineRef !== undefined && baselineCommit !== undefined
      ? await buildBaseline(dir, baselineRef, baselineCommit)
      : undefined;
  const token = `bench-${randomBytes(6).toString('hex')}`;
  makeMinimalService(path.join(dir, 'repos/svc.git'), token);
  makeRepo(path.join(dir, 'repos/data.git'), { 'hello.txt': 'data\n' });
  const daemon = await startGitDaemon(session, path.join(dir, 'repos'));

  const userData: Partial<Record<Variant, string>> = {};
  const skipped: Partial<Record<Variant, string>> = {};
  const wanted = (v: Variant) => only.includes(v);
  if (wanted('minimal')) {
    userData.minimal = planMinimalUserData({ repoUrl: toGuestUrl(daemon.url('svc.git')) });
  }
  for (const source of GITSTRAP_VARIANTS) {
    if (!wanted(source)) continue;
    const rendered = await renderGitstrapUserData(dir, daemon.url.bind(daemon), source, baseline);
    if ('userData' in rendered) userData[source] = rendered.userData;
    else skipped[source] = rendered.skipped;
  }

  const variants = VARIANTS.filter((v) => userData[v] !== undefined);
  const results: Record<Variant, Run[]> = {
    minimal: [],
    gitstrap: [],
    'gitstrap-baseline': [],
    'gitstrap-npm': [],
  };
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) {
      const run = await bootOnce(variant, userData[variant] ?? '', token);
      results[variant].push(run);
      console.error(
        `bench:boot: ${variant} run ${i + 1}/${runs}: first 200 after ${seconds(run.firstOkMs)}`,
      );
    }
  }
  report(results, skipped, image.manifest, baseline);
}

/** The commit REF names in this repo; a Fatal naming --baseline when git does not know it. */
async function resolveRef(ref: string): Promise<string> {
  const found = await runToEnd('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
    cwd: projectRoot,
  });
  const commit = found.stdout.trim();
  if (found.code !== 0 || !/^[0-9a-f]{40}$/.test(commit)) {
    throw new Fatal(
      `--baseline expects a commit-ish of this repo (e.g. 1c6e890^), got ${ref}, which git rev-parse does not resolve to a commit: check the name (git log --oneline)`,
      '',
      2,
    );
  }
  return commit;
}

/**
 * This repo at `commit`, built: a detached worktree in `dir` (removed by the session's cleanups,
 * also on a failure or SIGINT), its dependencies (this checkout's node_modules linked when REF's
 * package-lock.json is byte-identical to ours, else npm ci, offline first), then npm run build.
 */
async function buildBaseline(dir: string, ref: string, commit: string): Promise<Baseline> {
  const root = path.join(dir, 'baseline');
  const modules = path.join(root, 'node_modules');
  // Registered before the worktree exists: an interrupted `git worktree add` is cleaned up too.
  session.after(async () => {
    // The link goes first so that nothing removing the worktree can reach our own node_modules.
    if (isSymlink(modules)) unlinkSync(modules);
    if (existsSync(root)) {
      await runToEnd('git', ['worktree', 'remove', '--force', root], { cwd: projectRoot });
    }
    await runToEnd('git', ['worktree', 'prune'], { cwd: projectRoot });
  });
  const short = commit.slice(0, 12);
  console.error(`bench:boot: baseline ${ref} (${short}): checking out a worktree in ${root}`);
  await mustRun(
    'git',
    ['worktree', 'add', '--detach', root, commit],
    projectRoot,
    'git worktree add',
  );

  const ourLock = path.join(projectRoot, 'package-lock.json');
  const theirLock = path.join(root, 'package-lock.json');
  const sameLock =
    existsSync(ourLock) &&
    existsSync(theirLock) &&
    readFileSync(ourLock).equals(readFileSync(theirLock)) &&
    existsSync(path.join(projectRoot, 'node_modules'));
  if (sameLock) {
    console.error(
      `bench:boot: baseline ${short}: package-lock.json as here, linking this checkout's node_modules`,
    );
    symlinkSync(path.join(projectRoot, 'node_modules'), modules, 'dir');
  } else {
    console.error(
      `bench:boot: baseline ${short}: package-lock.json differs, npm ci (offline first)`,
    );
    const offline = await runToEnd('npm', ['ci', '--offline', '--no-audit', '--no-fund'], {
      cwd: root,
    });
    if (offline.code !== 0) {
      console.error(
        `bench:boot: baseline ${short}: npm ci --offline failed (${lastLine(offline)}), npm ci from the registry`,
      );
      await mustRun('npm', ['ci', '--no-audit', '--no-fund'], root, 'npm ci');
    }
  }
  console.error(`bench:boot: baseline ${short}: npm run build`);
  await mustRun('npm', ['run', 'build'], root, 'npm run build');
  const baseline: Baseline = {
    ref,
    commit,
    root,
    bin: path.join(root, 'bin/bootstrap.js'),
    bundle: path.join(root, 'dist/gitstrap-agent.cjs'),
  };
  for (const file of [baseline.bin, baseline.bundle, path.join(root, 'dist/cli.js')]) {
    if (!existsSync(file)) {
      throw new Fatal(
        `--baseline ${ref}: npm run build at ${short} left no ${path.relative(root, file)}: pick a REF whose build makes dist/cli.js and dist/gitstrap-agent.cjs`,
      );
    }
  }
  return baseline;
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** `run`, a Fatal naming --baseline and the step (with the command's last line) when it fails. */
async function mustRun(command: string, args: string[], cwd: string, step: string): Promise<void> {
  const result = await runToEnd(command, args, { cwd });
  if (result.code !== 0) {
    throw new Fatal(
      `--baseline ${baselineRef ?? ''}: ${step} failed in ${cwd} (exit ${result.code}): ${lastLine(result)}`,
    );
  }
}

/** The line that says why a command failed: its first error line (npm's), else its last line. */
function lastLine(result: { code: number | null; stdout: string; stderr: string }): string {
  const text = (result.stderr.trim() || result.stdout.trim())
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/complete log of this run/i.test(l));
  return text.find((l) => /\berror\b/i.test(l)) ?? text.at(-1) ?? `exit ${result.code}`;
}

/**
 * gitstrap's own user-data, rendered by the built CLI (`npm run build` first) from a recipe that
 * serves the same service repo (and a data repo) on the same port, with the agent from `source`:
 * the bundle from a host HTTP server by URL and sha256, or npm from a registry on the host.
 * `gitstrap-baseline` is `gitstrap` with the CLI and the bundle of `baseline` (--baseline REF); a
 * CLI there that refuses the recipe is a Fatal with its error, not a skip.
 */
async function renderGitstrapUserData(
  dir: string,
  repoUrl: (name: string) => string,
  source: GitstrapVariant,
  baseline: Baseline | undefined,
): Promise<{ userData: string } | { skipped: string }> {
  if (source === 'gitstrap-baseline' && !baseline) {
    return { skipped: 'no --baseline REF' };
  }
  if (source !== 'gitstrap-baseline' && !existsSync(AGENT_BUNDLE)) {
    return {
      skipped: `${path.relative(process.cwd(), AGENT_BUNDLE)} is missing: run npm run build`,
    };
  }
  let agent: string[];
  if (source === 'gitstrap' || source === 'gitstrap-baseline') {
    const [name, bundle] =
      source === 'gitstrap-baseline' && baseline
        ? [BASELINE_BUNDLE_NAME, baseline.bundle]
        : ['gitstrap-agent.cjs', AGENT_BUNDLE];
    const files = await startFileServer(session, { [name]: bundle });
    agent = [
      'agent:',
      '  source:',
      `    url: "${files.guestUrl(name)}"`,
      // Quoted: a hex digest of digits only would read as a YAML number.
      `    sha256: "${files.sha256(name)}"`,
    ];
  } else {
    const registry = await startRegistry(session);
    await registry.publish(packGitstrap(dir));
    agent = ['agent:', `  registry: "${toGuestUrl(registry.url)}"`];
  }
  const recipe = path.join(dir, `boot-bench-${source}.yaml`);
  writeFileSync(
    recipe,
    [
      'name: boot-bench',
      'service:',
      `  repo: "${toGuestUrl(repoUrl('svc.git'))}"`,
      '  ref: main',
      '  runtime: process',
      '  start: [/usr/bin/node, "{service}/server.js", "{port}"]',
      'data:',
      `  repo: "${toGuestUrl(repoUrl('data.git'))}"`,
      '  ref: main',
      '  mount: data',
      'serve:',
      `  port: ${MINIMAL_SERVICE_PORT}`,
      '  health: /',
      ...agent,
      '',
    ].join('\n'),
  );
  const result =
    source === 'gitstrap-baseline' && baseline
      ? await runCli(['userdata', '--recipe', recipe], { entry: baseline.bin, cwd: baseline.root })
      : await runCli(['userdata', '--recipe', recipe]);
  if (result.code !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n')[0] ?? `exit ${result.code}`;
    if (source === 'gitstrap-baseline' && baseline) {
      throw new Fatal(
        `--baseline ${baseline.ref}: the CLI at ${baseline.commit.slice(0, 12)} failed on the bench recipe ${recipe} (bootstrap userdata exit ${result.code}), its output below: pick a REF whose recipe schema takes this recipe (agent.source {url, sha256})`,
        (result.stderr || result.stdout).trim() || why,
      );
    }
    return { skipped: `bootstrap userdata failed: ${why}` };
  }
  return { userData: result.stdout };
}

async function bootOnce(variant: Variant, userData: string, token: string): Promise<Run> {
  const hooks = new Cleanups();
  try {
    const vm = await startVm(hooks, {
      name: `bench-${variant}`,
      userData,
      forward: [MINIMAL_SERVICE_PORT],
      log: () => undefined,
    });
    return await vm.check(async () => {
      const first = await vm.waitForHttp(vm.url(MINIMAL_SERVICE_PORT, '/'), {
        timeoutMs: SERVE_TIMEOUT_MS,
        accept: (body) => body.includes(token),
      });
      const status = await vm.exec(['cloud-init', 'status', '--wait', '--long'], {
        timeoutMs: 300_000,
      });
      const blame = await vm.run(['cloud-init', 'analyze', 'blame'], { timeoutMs: 120_000 });
      const journal =
        variant !== 'minimal'
          ? await vm.run(['journalctl', '-o', 'json', '--no-pager', '-u', 'gitstrap@*'], {
              timeoutMs: 120_000,
            })
          : '';
      return {
        firstOkMs: first.ms,
        stages: findBootStages(vm.serial),
        steps: findFirstBootSteps(vm.serial),
        agent: findAgentTimeline(journal),
        cloudInitStatus: /^status: (\S+)/m.exec(status.stdout)?.[1] ?? `exit ${status.exitCode}`,
        blame,
      };
    });
  } finally {
    await hooks.run();
  }
}

function report(
  results: Record<Variant, Run[]>,
  skipped: Partial<Record<Variant, string>>,
  manifest: Record<string, string>,
  baseline: Baseline | undefined,
): void {
  const counts = shown.map((v) => `${results[v].length} ${v}`).join(', ');
  const width = Math.max(14, ...shown.map((v) => v.length + 2));
  const header = shown.map((v) => v.padStart(width)).join('');
  const lines = [
    '',
    `boot to serve: ms since QEMU started, medians of ${counts} boots`,
    `guest: Debian 12, node ${manifest.node ?? '?'}, cloud-init ${manifest['cloud-init'] ?? '?'}, image ${manifest.key ?? '?'}`,
  ];
  if (baseline) {
    lines.push(
      `gitstrap-baseline: user-data and agent bundle built at --baseline ${baseline.ref} (${baseline.commit.slice(0, 12)})`,
    );
  }
  lines.push('', `${'stage'.padEnd(30)}${header}`);
  const row = (label: string, pick: (r: Run) => number | undefined) => {
    const cell = (v: Variant) => {
      if (skipped[v]) return 'n/a';
      const m = median(results[v].map(pick).filter((x): x is number => x !== undefined));
      return m === undefined ? '-' : seconds(m);
    };
    lines.push(`${label.padEnd(30)}${shown.map((v) => cell(v).padStart(width)).join('')}`);
  };
  for (const { stage } of BOOT_STAGES) row(stage, (r) => r.stages[stage]);
  row('first 200 from the service', (r) => r.firstOkMs);
  lines.push(
    `${'cloud-init status'.padEnd(30)}${shown.map((v) => (skipped[v] ? 'n/a' : statuses(results[v])).padStart(width)).join('')}`,
  );
  const minimal = median(results.minimal.map((r) => r.firstOkMs));
  lines.push('');
  const gitstraps = GITSTRAP_VARIANTS.filter((v) => shown.includes(v));
  for (const v of gitstraps) {
    const mine = median(results[v].map((r) => r.firstOkMs));
    if (minimal !== undefined && mine !== undefined) {
      const ratio = mine / minimal;
      lines.push(
        `ratio ${v} / minimal (first 200): ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
      );
    } else {
      lines.push(
        `ratio ${v} / minimal (first 200): not measured (${skipped[v] ?? skipped.minimal ?? 'a variant was left out with --only'})`,
      );
    }
  }
  const bundle = median(results.gitstrap.map((r) => r.firstOkMs));
  const npm = median(results['gitstrap-npm'].map((r) => r.firstOkMs));
  if (bundle !== undefined && npm !== undefined) {
    lines.push(`boot cost of the npm source over the bundle URL: ${seconds(npm - bundle)}`);
  }
  if (baseline) {
    const before = median(results['gitstrap-baseline'].map((r) => r.firstOkMs));
    const label = 'ratio gitstrap / gitstrap-baseline (first 200)';
    const target = `target: no worse, <= ${BASELINE_TARGET_RATIO.toFixed(2)}x`;
    if (bundle !== undefined && before !== undefined) {
      const ratio = bundle / before;
      lines.push(
        `${label}: ${ratio.toFixed(2)}x by medians (${target}): ${ratio <= BASELINE_TARGET_RATIO ? 'met' : 'NOT met'}`,
      );
      const pairs = Math.max(results.gitstrap.length, results['gitstrap-baseline'].length);
      for (let i = 0; i < pairs; i++) {
        const now = results.gitstrap[i]?.firstOkMs;
        const then = results['gitstrap-baseline'][i]?.firstOkMs;
        const cell = (ms: number | undefined) => (ms === undefined ? '-' : seconds(ms));
        const pairRatio =
          now !== undefined && then !== undefined ? `${(now / then).toFixed(2)}x` : '-';
        lines.push(
          `  run ${i + 1}: gitstrap ${cell(now)}, gitstrap-baseline ${cell(then)}, ratio ${pairRatio}`,
        );
      }
    } else {
      lines.push(
        `${label}: not measured (${skipped.gitstrap ?? skipped['gitstrap-baseline'] ?? 'a variant was left out with --only'}) (${target})`,
      );
    }
  }
  for (const v of gitstraps) {
    const stepNames = [...new Set(results[v].flatMap((r) => r.steps.map((s) => s.step)))];
    if (stepNames.length > 0) {
      lines.push('', `${v} first-boot steps (median duration, from its serial console lines):`);
      for (const name of stepNames) {
        const took = median(
          results[v]
            .map((r) => r.steps.find((s) => s.step === name))
            .filter((s): s is FirstBootStep => s?.doneMs !== undefined)
            .map((s) => (s.doneMs ?? 0) - s.startMs),
        );
        lines.push(`  ${name.padEnd(12)}${took === undefined ? 'did not finish' : seconds(took)}`);
      }
    }
    const marks = [...new Set(results[v].flatMap((r) => r.agent.map((m) => m.mark)))];
    if (marks.length > 0) {
      lines.push('', `${v} agent start (median ms since systemd began starting its unit):`);
      for (const mark of marks) {
        const at = median(
          results[v].flatMap((r) => r.agent.filter((m) => m.mark === mark).map((m) => m.ms)),
        );
        lines.push(`  ${mark.padEnd(24)}${at === undefined ? '-' : seconds(at)}`);
      }
    }
  }
  for (const v of shown) {
    const last = results[v].at(-1);
    if (!last) continue;
    lines.push('', `cloud-init analyze blame, ${v} (last run), slowest first:`);
    lines.push(...topBlame(last.blame, 10).map((l) => `  ${l}`));
  }
  console.log(lines.join('\n'));
}

/** The slowest `n` entries of `cloud-init analyze blame` (first boot record). */
function topBlame(blame: string, n: number): string[] {
  return blame
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+\.\d+s \(/.test(l))
    .slice(0, n);
}

function statuses(list: Run[]): string {
  return [...new Set(list.map((r) => r.cloudInitStatus))].join(',') || '-';
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

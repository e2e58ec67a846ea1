// Boot benchmark (npm run bench:boot [-- --runs N] [-- --only minimal|gitstrap|gitstrap-npm]): time
// from QEMU start to the first 200 from the service, for gitstrap's user-data against a hand-written
// minimal cloud-config that only clones the service and starts it (the lower bound), side by side,
// with the boot stages seen on the serial console and `cloud-init analyze blame` from the guest.
// gitstrap boots once per agent source: `gitstrap` gets the agent bundle by URL and sha256 from a
// host file server, `gitstrap-npm` the default npm source from a real registry (verdaccio) on the
// host serving `npm pack` of this checkout. Target (issue 15): gitstrap's boot-to-serve within 1.1x
// the minimum. Boots run one at a time, alternating.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AGENT_BUNDLE, runCli } from '../test/helpers/cli.js';
import { makeRepo, startGitDaemon } from '../test/helpers/git.js';
import { packGitstrap, startRegistry } from '../test/helpers/registry.js';
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
const SERVE_TIMEOUT_MS = 15 * 60_000;

type Variant = 'minimal' | 'gitstrap' | 'gitstrap-npm';
const VARIANTS: readonly Variant[] = ['minimal', 'gitstrap', 'gitstrap-npm'];

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
  options: { runs: { type: 'string', default: '3' }, only: { type: 'string' } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  console.error(`bench:boot: --runs expects a whole number from 1 to 20, got ${values.runs}`);
  process.exit(2);
}
if (values.only !== undefined && !VARIANTS.includes(values.only as Variant)) {
  console.error(`bench:boot: --only expects ${VARIANTS.join(', ')}, got ${values.only}`);
  process.exit(2);
}

const session = new Cleanups();
process.once('SIGINT', () => void session.run().then(() => process.exit(130)));
try {
  await main();
} finally {
  await session.run();
}

async function main(): Promise<void> {
  const image = await ensureImage();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-boot-'));
  session.after(() => rmSync(dir, { recursive: true, force: true }));
  const token = `bench-${randomBytes(6).toString('hex')}`;
  makeMinimalService(path.join(dir, 'repos/svc.git'), token);
  makeRepo(path.join(dir, 'repos/data.git'), { 'hello.txt': 'data\n' });
  const daemon = await startGitDaemon(session, path.join(dir, 'repos'));

  const userData: Partial<Record<Variant, string>> = {};
  const skipped: Partial<Record<Variant, string>> = {};
  const wanted = (v: Variant) => values.only === undefined || values.only === v;
  if (wanted('minimal')) {
    userData.minimal = planMinimalUserData({ repoUrl: toGuestUrl(daemon.url('svc.git')) });
  }
  for (const source of ['gitstrap', 'gitstrap-npm'] as const) {
    if (!wanted(source)) continue;
    const rendered = await renderGitstrapUserData(dir, daemon.url.bind(daemon), source);
    if ('userData' in rendered) userData[source] = rendered.userData;
    else skipped[source] = rendered.skipped;
  }

  const variants = VARIANTS.filter((v) => userData[v] !== undefined);
  const results: Record<Variant, Run[]> = { minimal: [], gitstrap: [], 'gitstrap-npm': [] };
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) {
      const run = await bootOnce(variant, userData[variant] ?? '', token);
      results[variant].push(run);
      console.error(
        `bench:boot: ${variant} run ${i + 1}/${runs}: first 200 after ${seconds(run.firstOkMs)}`,
      );
    }
  }
  report(results, skipped, image.manifest);
}

/**
 * gitstrap's own user-data, rendered by the built CLI (`npm run build` first) from a recipe that
 * serves the same service repo (and a data repo) on the same port, with the agent from `source`:
 * the bundle from a host HTTP server by URL and sha256, or npm from a registry on the host.
 */
async function renderGitstrapUserData(
  dir: string,
  repoUrl: (name: string) => string,
  source: 'gitstrap' | 'gitstrap-npm',
): Promise<{ userData: string } | { skipped: string }> {
  if (!existsSync(AGENT_BUNDLE)) {
    return {
      skipped: `${path.relative(process.cwd(), AGENT_BUNDLE)} is missing: run npm run build`,
    };
  }
  let agent: string[];
  if (source === 'gitstrap') {
    const files = await startFileServer(session, { 'gitstrap-agent.cjs': AGENT_BUNDLE });
    agent = [
      'agent:',
      '  source:',
      `    url: "${files.guestUrl('gitstrap-agent.cjs')}"`,
      // Quoted: a hex digest of digits only would read as a YAML number.
      `    sha256: "${files.sha256('gitstrap-agent.cjs')}"`,
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
  const result = await runCli(['userdata', '--recipe', recipe]);
  if (result.code !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n')[0] ?? `exit ${result.code}`;
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
): void {
  const counts = VARIANTS.map((v) => `${results[v].length} ${v}`).join(', ');
  const header = VARIANTS.map((v) => v.padStart(14)).join('');
  const lines = [
    '',
    `boot to serve: ms since QEMU started, medians of ${counts} boots`,
    `guest: Debian 12, node ${manifest.node ?? '?'}, cloud-init ${manifest['cloud-init'] ?? '?'}, image ${manifest.key ?? '?'}`,
    '',
    `${'stage'.padEnd(30)}${header}`,
  ];
  const row = (label: string, pick: (r: Run) => number | undefined) => {
    const cell = (v: Variant) => {
      if (skipped[v]) return 'n/a';
      const m = median(results[v].map(pick).filter((x): x is number => x !== undefined));
      return m === undefined ? '-' : seconds(m);
    };
    lines.push(`${label.padEnd(30)}${VARIANTS.map((v) => cell(v).padStart(14)).join('')}`);
  };
  for (const { stage } of BOOT_STAGES) row(stage, (r) => r.stages[stage]);
  row('first 200 from the service', (r) => r.firstOkMs);
  lines.push(
    `${'cloud-init status'.padEnd(30)}${VARIANTS.map((v) => (skipped[v] ? 'n/a' : statuses(results[v])).padStart(14)).join('')}`,
  );
  const minimal = median(results.minimal.map((r) => r.firstOkMs));
  lines.push('');
  for (const v of ['gitstrap', 'gitstrap-npm'] as const) {
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
  for (const v of ['gitstrap', 'gitstrap-npm'] as const) {
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
  for (const v of VARIANTS) {
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

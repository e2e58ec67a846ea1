// Runs rendered user-data the way cloud-init would, in a sandbox folder: cloud-init's own code
// decodes it (gzip, MIME), writes its write_files under the sandbox root and turns runcmd into a
// script; then those scripts run with GITSTRAP_TEST_ROOT set and a PATH of stand-in commands
// (fixtures/fake-command.sh) plus a few real tools. Every stand-in call is recorded with its argv.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { startProcess } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');

/** The real tools the first-boot script (and the stand-ins) may use; nothing else is on PATH.
 * touch is not used by the script: it is there so that an injected `touch CANARY` would work. */
const REAL_TOOLS = [
  'awk',
  'cat',
  'chmod',
  'cp',
  'date',
  'dirname',
  'ln',
  'mkdir',
  'mktemp',
  'mv',
  'nice',
  'readlink',
  'rm',
  'sed',
  'sha256sum',
  'timeout',
  'touch',
  'uname',
];

/** Commands that exist as stand-ins on every sandbox machine. */
const ALWAYS = ['systemctl', 'useradd', 'getent', 'sleep', 'tar'];

export interface SandboxOptions {
  /** The shell that runs the first-boot script as `sh` (default dash, Debian's /bin/sh). */
  shell?: 'dash' | 'bash' | 'busybox';
  /** The package manager of the pretend distribution (default apt-get). */
  packageManager?: 'apt-get' | 'dnf';
  /** Commands already installed before first boot, e.g. ['git', 'node', 'curl']. */
  installed?: string[];
  /** Real programs to put on PATH under a name, e.g. {node: requireNode18()}. */
  realTools?: Record<string, string>;
  /** FAKE_* variables that steer the stand-ins. */
  env?: Record<string, string>;
  /** Environment variables that depend on the sandbox root (e.g. npm's prefix inside it). */
  envFor?: (root: string) => Record<string, string>;
  /** Prepares the machine's file system (the sandbox root) before the scripts run. */
  before?: (root: string) => void;
}

export interface StagedUserData {
  cloudConfigs: string[];
  scripts: string[];
  /** owner and permissions as the user-data gives them (null: cloud-init's default); written: as
   * cloud-init's write_files wrote the file. */
  files: Array<{
    path: string;
    owner: string | null;
    permissions: string | null;
    encoding: string | null;
    written: { owner: string | null; mode: string };
  }>;
  parts: string[];
}

export interface SandboxRun {
  /** The sandbox's root (GITSTRAP_TEST_ROOT): the instance's file system. */
  root: string;
  code: number | string;
  output: string;
  /** Every stand-in call, as [command, ...argv], in order. */
  calls: string[][];
  staged: StagedUserData;
  /** /var/lib/gitstrap/bootstrap-result.json, parsed, if written. */
  result: Record<string, unknown> | undefined;
}

/** The python that runs cloud-init (from the shebang of the cloud-init command). */
function cloudInitPython(): string {
  const cloudInit = requireTool('cloud-init', 'cloud-init');
  const first = readFileSync(cloudInit, 'utf8').split('\n', 1)[0] ?? '';
  const python = /^#!\s*(\S+)/.exec(first)?.[1];
  if (!python) throw new Error(`cannot find the python of ${cloudInit}`);
  return python;
}

/** Decodes user-data with cloud-init's code and stages it under `root`; runs nothing. */
export function stageUserData(
  userData: Buffer | string,
  dir: string,
  root: string,
): StagedUserData {
  const file = path.join(dir, 'user-data');
  writeFileSync(file, userData);
  mkdirSync(root, { recursive: true });
  const staged = spawnSync(
    cloudInitPython(),
    [path.join(FIXTURES, 'cloud-init-stage.py'), file, root],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (staged.status !== 0) {
    throw new Error(`cloud-init could not stage the user-data:\n${staged.stderr}${staged.stdout}`);
  }
  return JSON.parse(staged.stdout) as StagedUserData;
}

/** Stages and runs user-data in a fresh sandbox; resolves when every script has finished. */
export async function runUserData(
  t: Pick<TestContext, 'after'>,
  userData: Buffer | string,
  options: SandboxOptions = {},
): Promise<SandboxRun> {
  const dir = tempDir(t, 'gitstrap-sandbox-');
  const root = path.join(dir, 'root');
  const fakebin = path.join(dir, 'fakebin');
  const toolbin = path.join(dir, 'toolbin');
  const log = path.join(dir, 'calls.log');
  for (const d of [fakebin, toolbin, path.join(toolbin, '.sh'), path.join(dir, 'tmp')]) {
    mkdirSync(d, { recursive: true });
  }
  const staged = stageUserData(userData, dir, root);

  for (const tool of REAL_TOOLS)
    symlinkSync(requireTool(tool, 'coreutils'), path.join(toolbin, tool));
  for (const [name, file] of Object.entries(options.realTools ?? {})) {
    symlinkSync(file, path.join(toolbin, name));
  }
  const shell = options.shell ?? 'dash';
  const shellBinary = requireTool(shell, shell === 'busybox' ? 'busybox-static' : shell);
  // Linked as "sh": bash then runs in POSIX mode and busybox runs its ash.
  symlinkSync(shellBinary, path.join(toolbin, '.sh', 'sh'));
  copyFileSync(path.join(FIXTURES, 'sandbox-sh.sh'), path.join(toolbin, 'sh'));
  chmodSync(path.join(toolbin, 'sh'), 0o755);

  copyFileSync(path.join(FIXTURES, 'fake-command.sh'), path.join(fakebin, '.fake'));
  chmodSync(path.join(fakebin, '.fake'), 0o755);
  // A real tool given in realTools replaces the stand-in of the same name.
  const present = [
    ...ALWAYS,
    options.packageManager ?? 'apt-get',
    ...(options.installed ?? []),
  ].filter((name) => !(options.realTools && name in options.realTools));
  for (const name of present) symlinkSync(path.join(fakebin, '.fake'), path.join(fakebin, name));
  writeFileSync(log, '');
  // What every systemd machine has: the folder of the administrator's units.
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  options.before?.(root);

  const env = {
    PATH: `${fakebin}:${toolbin}`,
    GITSTRAP_TEST_ROOT: root,
    FAKEBIN: fakebin,
    FAKE_LOG: log,
    REAL_SH: path.join(toolbin, '.sh', 'sh'),
    TMPDIR: path.join(dir, 'tmp'),
    HOME: path.join(dir, 'tmp'),
    LANG: 'C.UTF-8',
    ...options.env,
    ...options.envFor?.(root),
  };
  let output = '';
  let code: number | string = 0;
  for (const script of staged.scripts) {
    const run = startProcess(t, script, [], { env, cwd: dir });
    const timer = setTimeout(() => void run.stop('SIGKILL'), 60_000);
    code = await run.exited;
    clearTimeout(timer);
    output += run.output();
    if (code !== 0) break;
  }
  const resultFile = path.join(root, 'var/lib/gitstrap/bootstrap-result.json');
  return {
    root,
    code,
    output,
    calls: parseCalls(readFileSync(log)),
    staged,
    result: existsSync(resultFile)
      ? (JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>)
      : undefined,
  };
}

/** The recorded calls: each is a count, the command name, then that many arguments. */
export function parseCalls(log: Buffer): string[][] {
  const fields = log.toString('utf8').split('\0');
  const calls: string[][] = [];
  let i = 0;
  while (i < fields.length - 1) {
    const count = Number(fields[i]);
    calls.push(fields.slice(i + 1, i + 2 + count));
    i += 2 + count;
  }
  return calls;
}

/** The calls of one command. */
export function callsOf(run: SandboxRun, command: string): string[][] {
  return run.calls.filter((c) => c[0] === command).map((c) => c.slice(1));
}

/** Where a symlink in the sandbox points, or undefined when it is not one. */
export function linkTarget(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

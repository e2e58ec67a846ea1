// OS packages through the distro's package manager (apt-get or dnf, by what exists). Planners return
// the commands; a runner executes them, so tests can put a stand-in package manager on PATH.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { InstallStep } from '../recipe/schema.js';
import { describeOutcome, runCommand, type CommandOutcome } from './run-command.js';

/** The package managers the agent knows. */
export type PackageManagerKind = 'apt' | 'dnf';

/** A command to run for the package manager. */
export interface PackageCommand {
  argv: string[];
  env: Record<string, string>;
}

/** The recipe's package list for this package manager ({apt, dnf} picks; a plain list is for both). */
export function selectPackages(
  packages: NonNullable<InstallStep['packages']>,
  kind: PackageManagerKind,
): string[] {
  return Array.isArray(packages) ? packages : (packages[kind] ?? []);
}

/** The command that lists which of `names` are installed. */
export function planQuery(kind: PackageManagerKind, names: readonly string[]): PackageCommand {
  return kind === 'apt'
    ? {
        argv: ['dpkg-query', '-W', '-f=${Package}\t${db:Status-Abbrev}\n', '--', ...names],
        env: {},
      }
    : { argv: ['rpm', '-q', '--', ...names], env: {} };
}

/** The names among `names` that the query output says are not installed. */
export function parseMissing(
  kind: PackageManagerKind,
  names: readonly string[],
  output: string,
): string[] {
  if (kind === 'apt') {
    const installed = new Set(
      output
        .split('\n')
        .map((line) => line.split('\t'))
        .filter(([, status]) => status?.startsWith('ii'))
        .map(([name]) => name ?? ''),
    );
    return names.filter((n) => !installed.has(n.split(':')[0]!));
  }
  const missing = new Set(
    [...output.matchAll(/^package (\S+) is not installed$/gm)].map((m) => m[1]!),
  );
  return names.filter((n) => missing.has(n));
}

/** The commands that install `names` (non-interactive; apt refreshes its lists first). */
export function planInstall(kind: PackageManagerKind, names: readonly string[]): PackageCommand[] {
  if (kind === 'apt') {
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    return [
      { argv: ['apt-get', 'update', '-q'], env },
      { argv: ['apt-get', 'install', '-y', '-q', '--no-install-recommends', '--', ...names], env },
    ];
  }
  return [{ argv: ['dnf', 'install', '-y', '-q', '--', ...names], env: {} }];
}

/** Finds a program on PATH. */
export function findOnPath(program: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    const file = path.join(dir, program);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** apt when apt-get exists, else dnf when dnf exists. */
export function detectPackageManager(env: NodeJS.ProcessEnv): PackageManagerKind | undefined {
  if (findOnPath('apt-get', env)) return 'apt';
  if (findOnPath('dnf', env)) return 'dnf';
  return undefined;
}

/** Runs a package command and returns how it ended with its full output. */
export type PackageRunner = (
  command: PackageCommand,
  onLine: (line: string) => void,
) => Promise<CommandOutcome & { output: string }>;

/** The real runner: the command as a child process with the agent's environment plus its own. */
export function processPackageRunner(
  env: NodeJS.ProcessEnv,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): PackageRunner {
  return async (command, onLine) => {
    let output = '';
    const outcome = await runCommand(
      {
        argv: command.argv,
        cwd: '/',
        env: { ...env, ...command.env },
        timeoutMs: options.timeoutMs ?? 20 * 60_000,
      },
      {
        onLine: (_stream, line) => {
          output += line + '\n';
          onLine(line);
        },
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    return { ...outcome, output };
  };
}

/** What ensurePackages needs from the machine. */
export interface PackageContext {
  kind: PackageManagerKind | undefined;
  isRoot: boolean;
  run: PackageRunner;
  logger: Logger;
  /** The command a person runs to install them (for the not-root message). */
  rootCommand: string;
}

/** Which of `names` are missing, by asking dpkg-query / rpm. */
export async function findMissing(
  kind: PackageManagerKind,
  names: readonly string[],
  run: PackageRunner,
): Promise<string[]> {
  if (names.length === 0) return [];
  const command = planQuery(kind, names);
  const outcome = await run(command, () => {});
  if (outcome.startError) {
    throw new GitstrapError(
      `cannot check installed packages: ${command.argv[0]} ${describeOutcome(outcome)}`,
    );
  }
  return parseMissing(kind, names, outcome.output);
}

/**
 * Makes sure `names` are installed: as root, installs the missing ones; otherwise fails naming
 * them and the command to run as root. Returns what was installed.
 */
export async function ensurePackages(
  step: string,
  packages: NonNullable<InstallStep['packages']>,
  ctx: PackageContext,
): Promise<{ installed: string[]; kind?: PackageManagerKind }> {
  if (!ctx.kind) {
    throw new GitstrapError(`install step "${step}": no package manager found (apt-get or dnf)`, {
      hint: 'install the packages another way and remove this step, or run on Debian, Ubuntu or a dnf-based distro',
      exitCode: ExitCode.failed,
    });
  }
  const names = selectPackages(packages, ctx.kind);
  const missing = await findMissing(ctx.kind, names, ctx.run);
  if (missing.length === 0) {
    ctx.logger.log('info', 'packages.present', { step, packages: names });
    return { installed: [], kind: ctx.kind };
  }
  if (!ctx.isRoot) {
    throw new GitstrapError(
      `install step "${step}": packages not installed: ${missing.join(', ')} (installing them needs root)`,
      {
        hint: `run: sudo ${ctx.rootCommand}  (the gitstrap unit does this before the agent starts)`,
        exitCode: ExitCode.failed,
      },
    );
  }
  for (const command of planInstall(ctx.kind, missing)) {
    ctx.logger.log('info', 'packages.run', { step, argv: command.argv });
    const outcome = await ctx.run(command, (line) =>
      ctx.logger.log('info', 'step.output', { step, line }),
    );
    if (outcome.code !== 0) {
      throw new GitstrapError(
        `install step "${step}": ${command.argv.slice(0, 2).join(' ')} failed: ${describeOutcome(outcome)}`,
        {
          details: outcome.tail,
          hint: 'check the package names for this distro',
          exitCode: ExitCode.failed,
        },
      );
    }
  }
  const still = await findMissing(ctx.kind, names, ctx.run);
  if (still.length) {
    throw new GitstrapError(
      `install step "${step}": still not installed after installing: ${still.join(', ')}`,
      {
        exitCode: ExitCode.failed,
      },
    );
  }
  return { installed: missing, kind: ctx.kind };
}

// Runs git against the fetch cache (GIT_DIR=repo.git), optionally with a work tree and an index kept
// outside it. Credentials come in through `gitEnv` and are never logged or put in messages.
import { describeExit, type Exec, type ExecResult } from './exec.js';
import { lastLines, redactCredentials, SyncFailure, type SyncPhase } from './failure.js';

export interface GitOptions {
  /** The work tree and its index file (both absolute), for checkout commands. */
  workTree?: string;
  index?: string;
  timeoutMs?: number;
  /** Another GIT_DIR than the cache (to create the cache). */
  gitDir?: string;
  /** Variables added for this command (e.g. GIT_PROTOCOL_FROM_USER for a submodule fetch). */
  env?: Readonly<Record<string, string>>;
  /** Without the recipe's credentials (`gitEnv`): for a host they were not given for. */
  withoutCredentials?: boolean;
}

/** git with the cache as GIT_DIR. `run` returns the result; `ok` throws a SyncFailure on failure. */
export interface Git {
  run(args: readonly string[], options?: GitOptions): Promise<ExecResult>;
  ok(
    phase: SyncPhase,
    args: readonly string[],
    options?: GitOptions & { hint?: string },
  ): Promise<string>;
}

// Variables that would point git somewhere else than where the engine says.
const DROPPED = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_CEILING_DIRECTORIES',
  // git-lfs: pointers instead of content, or another storage than the cache's.
  'GIT_LFS_SKIP_SMUDGE',
  'GIT_LFS_SKIP_DOWNLOAD_ERRORS',
  'GIT_LFS_SKIP_PUSH',
];

/** A git runner for the cache at `repo`. */
export function createGit(options: {
  repo: string;
  exec: Exec;
  gitEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  defaultTimeoutMs: number;
}): Git {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of DROPPED) delete base[name];
  const own = { GIT_DIR: options.repo, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  const plain: NodeJS.ProcessEnv = { ...base, ...own };
  Object.assign(base, options.gitEnv ?? {}, own);
  const run = (args: readonly string[], o: GitOptions = {}) => {
    const env: NodeJS.ProcessEnv = { ...(o.withoutCredentials ? plain : base), ...o.env };
    if (o.workTree) env.GIT_WORK_TREE = o.workTree;
    if (o.index) env.GIT_INDEX_FILE = o.index;
    if (o.gitDir) env.GIT_DIR = o.gitDir;
    return options.exec(['git', ...args], {
      env,
      timeoutMs: o.timeoutMs ?? options.defaultTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(o.workTree ? { cwd: o.workTree } : {}),
    });
  };
  return {
    run,
    async ok(phase, args, o = {}) {
      const result = await run(args, o);
      if (result.code === 0) return result.stdout;
      throw gitFailure(phase, args, result, o.timeoutMs ?? options.defaultTimeoutMs, o.hint);
    },
  };
}

/** The git subcommand in args ("fetch" in "-c x=y fetch --quiet ..."). */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return args[0] ?? '';
}

/** The SyncFailure for a failed git command: which command, how it ended, its last error lines. */
export function gitFailure(
  phase: SyncPhase,
  args: readonly string[],
  result: ExecResult,
  timeoutMs?: number,
  hint?: string,
): SyncFailure {
  const why = lastLines(redactCredentials(result.stderr), 4).join('; ');
  return new SyncFailure(
    phase,
    `git ${subcommand(args)} failed (${describeExit(result, timeoutMs)})${why ? `: ${why}` : ''}`,
    hint,
  );
}

// Runs git for the publisher: against its cache (GIT_DIR), with input on stdin when a command reads
// it (hash-object, update-index, commit-tree), its output kept as bytes (an archive read back), in
// its own process group (a time limit or Ctrl-C stops git and what it started), and every child
// recorded under the publish lock. The publishing machine's own credentials (ssh agent, credential
// helpers) are used as they are; nothing git prints reaches a message unredacted.
import { spawn } from 'node:child_process';
import { killGroup } from '../lib/run-process.js';
import { redactSecrets } from '../lib/redact.js';
import { publishFailure } from './errors.js';

export interface GitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

export interface GitCall {
  input?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** git for one publish: `run` returns the result, `ok` throws a PublishError (exit 3) on failure. */
export interface PublishGit {
  run(args: readonly string[], call?: GitCall): Promise<GitResult>;
  ok(args: readonly string[], call?: GitCall & { hint?: string }): Promise<Buffer>;
  text(args: readonly string[], call?: GitCall & { hint?: string }): Promise<string>;
}

// Variables that would point git somewhere else than the cache.
const DROPPED = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
];

/** A git runner for the cache `repo`. */
export function createPublishGit(options: {
  repo: string;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
  onExit?: (pid: number) => void;
  defaultTimeoutMs: number;
}): PublishGit {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of DROPPED) delete base[name];
  Object.assign(base, { GIT_DIR: options.repo, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });

  const run = (args: readonly string[], call: GitCall = {}) =>
    new Promise<GitResult>((resolve) => {
      const result: GitResult = {
        code: null,
        signal: null,
        stdout: Buffer.alloc(0),
        stderr: '',
        timedOut: false,
        aborted: false,
      };
      if (options.signal?.aborted) {
        resolve({ ...result, aborted: true });
        return;
      }
      const child = spawn('git', args, {
        env: { ...base, ...call.env },
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const pid = child.pid;
      if (pid !== undefined) options.onSpawn?.(pid);
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-16_384);
      });
      const stop = () => {
        if (pid === undefined) return;
        killGroup(pid, 'SIGTERM');
        setTimeout(() => killGroup(pid, 'SIGKILL'), 2000).unref();
      };
      const timeoutMs = call.timeoutMs ?? options.defaultTimeoutMs;
      const timer = setTimeout(() => {
        result.timedOut = true;
        stop();
      }, timeoutMs);
      const onAbort = () => {
        result.aborted = true;
        stop();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdin.on('error', () => undefined); // git may exit before reading everything
      child.stdin.end(call.input ?? '');
      child.on('error', (error: NodeJS.ErrnoException) => {
        err += error.code === 'ENOENT' ? 'git is not installed' : error.message;
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (pid !== undefined) options.onExit?.(pid);
        resolve({ ...result, code, signal, stdout: Buffer.concat(out), stderr: err });
      });
    });

  const ok = async (args: readonly string[], call: GitCall & { hint?: string } = {}) => {
    const result = await run(args, call);
    if (result.code === 0) return result.stdout;
    throw gitFailure(args, result, call.timeoutMs ?? options.defaultTimeoutMs, call.hint);
  };
  return { run, ok, text: async (args, call) => (await ok(args, call)).toString('utf8').trim() };
}

/** The git subcommand in args ("push" in "-c x=y push --porcelain ..."). */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return args[0] ?? '';
}

/** How a git command ended, in words. */
export function describeGitExit(result: GitResult, timeoutMs: number): string {
  if (result.aborted) return 'it was interrupted';
  if (result.timedOut) return `it timed out after ${Math.round(timeoutMs / 1000)} s`;
  if (result.signal) return `it was killed by ${result.signal}`;
  return `exit code ${result.code}`;
}

/** The last lines git wrote to stderr, credentials removed. */
export function gitErrorLines(stderr: string, count = 4): string[] {
  return redactSecrets(stderr)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-count);
}

function gitFailure(args: readonly string[], result: GitResult, timeoutMs: number, hint?: string) {
  const why = gitErrorLines(result.stderr).join('; ');
  return publishFailure(
    `git ${subcommand(args)} failed (${describeGitExit(result, timeoutMs)})${why ? `: ${why}` : ''}`,
    hint,
  );
}

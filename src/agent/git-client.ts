// A simple-git client for the agent: a clean environment plus only the git variables the agent sets
// (credentials), no prompts, a stall timeout, and the agent's abort signal.
import { simpleGit, type SimpleGit } from 'simple-git';

/** Variables the agent may pass to git (credentials and prompts); simple-git strips any other GIT_*. */
const ALLOWED_GIT_ENV = [
  'GIT_SSH_COMMAND',
  'GIT_TERMINAL_PROMPT',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_KEY_0',
  'GIT_CONFIG_VALUE_0',
  'GIT_CONFIG_NOSYSTEM',
  // Submodule fetches: git's own rule for URLs no user typed (protocol.file.allow=user refuses file://).
  'GIT_PROTOCOL_FROM_USER',
] as const;

const GUARDED = /^(GIT_|EDITOR$|VISUAL$|PAGER$|PREFIX$|SSH_ASKPASS$)/;

/** The environment git runs with: the agent's own, minus git/editor variables, plus `gitEnv`. */
export function gitProcessEnv(
  base: NodeJS.ProcessEnv,
  gitEnv: NodeJS.ProcessEnv = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !GUARDED.test(k)) env[k] = v;
  env.GIT_TERMINAL_PROMPT = '0';
  for (const [k, v] of Object.entries(gitEnv)) if (v !== undefined) env[k] = v;
  return env;
}

/** Options for a git client. */
export interface GitClientOptions {
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  gitEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Kill git when it prints nothing for this long. */
  stallMs?: number;
}

/** A simple-git instance configured for the agent. */
export function createGit(options: GitClientOptions): SimpleGit {
  return simpleGit({
    baseDir: options.baseDir,
    allowEnvironment: ALLOWED_GIT_ENV,
    unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true },
    timeout: { block: options.stallMs ?? 120_000 },
    ...(options.signal ? { abort: options.signal } : {}),
  }).env(gitProcessEnv(options.env ?? process.env, options.gitEnv));
}

/** Why git failed, in one line, from its error output (the "fatal:" line when there is one). */
export function gitFailureReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.find((l) => /^(fatal|error):/.test(l));
  const chosen = fatal ?? lines[0] ?? 'unknown error';
  const detail = fatal
    ? lines
        .slice(lines.indexOf(fatal) + 1)
        .find((l) => /errno|refused|denied|not found|resolve/i.test(l))
    : undefined;
  return (detail ? `${chosen} ${detail}` : chosen).replace(/^(fatal|error):\s*/, '');
}

/** Whether a git failure means the repository could not be reached (rather than a missing ref). */
export function isUnreachable(reason: string): boolean {
  return /unable to connect|could not resolve|connection refused|connection timed out|not appear to be a git repository|repository .* not found|could not read from remote|permission denied|host key verification failed|authentication failed|could not read username|unable to access|no such file or directory|does not exist|returned error: 40[134]/i.test(
    reason,
  );
}

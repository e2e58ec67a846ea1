// Commands run in the folder of a version being built (a transform's tar or `run`, a check's
// `run`): in that folder, with the engine's environment, a time limit and the sync's abort signal.
import { fillArgv, type PlaceholderValues } from '../../src/lib/placeholders.js';
import { describeExit, type Exec, type ExecResult } from './exec.js';
import { lastLines, SyncFailure } from './failure.js';

/** What a command in a version folder needs. */
export interface VersionContext {
  /** The version folder (absolute): the working folder, and the value of {data}. */
  root: string;
  exec: Exec;
  /** Values for {state}, {port}, {service}; {data} is the version folder. */
  placeholders: PlaceholderValues;
  /** The environment commands run with (never the git credentials). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Runs argv (as given) in the version folder. */
export function execInVersion(
  ctx: VersionContext,
  argv: readonly string[],
  timeoutMs: number,
): Promise<ExecResult> {
  return ctx.exec(argv, {
    cwd: ctx.root,
    env: ctx.env,
    timeoutMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

/**
 * Runs a recipe command (its placeholders filled) in the version folder. Unless it exits 0, throws
 * a SyncFailure of `phase` naming the command, how it ended and the last lines of its output.
 */
export async function runVersionCommand(
  ctx: VersionContext,
  phase: 'transform' | 'check',
  name: string,
  run: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const argv = fillArgv(run, { ...ctx.placeholders, data: ctx.root });
  const result = await execInVersion(ctx, argv, timeoutMs);
  if (result.code === 0) return;
  const output = lastLines(result.stderr || result.stdout, 4).join('; ');
  throw new SyncFailure(
    phase,
    `${name} failed (${describeExit(result, timeoutMs)})${output ? `: ${output}` : ''}`,
    result.startError === 'ENOENT'
      ? `install ${argv[0]} or fix the command in data.${phase}`
      : undefined,
  );
}

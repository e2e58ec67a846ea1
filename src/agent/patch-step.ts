// Running a patch install step in the service checkout: git apply the recipe's diff; skip it when
// the checkout already carries it; swap in the new version when the checkout carries an earlier
// version of the same step's patch (the recipe was edited). A patch that does not apply fails the
// step with its file and hunk. Every git run and its output go to steps/<name>.log.
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { durationMs } from '../lib/duration.js';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { parseUnifiedDiff, type DiffFile } from '../recipe/unified-diff.js';
import {
  describePatchFailure,
  explainPatchFailure,
  patchArgv,
  type PatchAction,
} from './patch-plan.js';
import { describeOutcome, runCommand } from './run-command.js';
import type { PlannedStep } from './step-plan.js';

/** What a patch step did. */
export type PatchResult = 'applied' | 'already applied' | 'replaced an earlier version';

export interface PatchStepOptions {
  checkout: string;
  commit: string;
  stepsDir: string;
  /** The agent's environment (git runs with LC_ALL=C, so its messages can be read). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  signal?: AbortSignal;
}

/** steps/<name>.applied.json: the patch the checkout of `commit` carries. */
interface AppliedRecord {
  commit: string;
  patch: string;
}

interface GitRun {
  ok: boolean;
  lines: string[];
}

/** Applies the step's patch to the checkout (or finds it already there); throws when it cannot. */
export async function runPatchStep(
  planned: PlannedStep,
  options: PatchStepOptions,
): Promise<PatchResult> {
  const { name, step } = planned;
  const patch = step.patch ?? '';
  const files = diffFiles(name, patch);
  const patchFile = path.join(options.stepsDir, `${name}.patch`);
  const recordFile = path.join(options.stepsDir, `${name}.applied.json`);
  const logFile = path.join(options.stepsDir, `${name}.log`);
  const log: string[] = [];
  const env = gitEnv(options.env);
  const timeoutMs = durationMs(step.timeout);

  const git = async (
    action: PatchAction,
    file = patchFile,
    diff: readonly DiffFile[] = files,
  ): Promise<GitRun> => {
    const argv = patchArgv(action, file, diff);
    log.push(`# ${new Date().toISOString()} ${argv.join(' ')}`);
    const lines: string[] = [];
    const outcome = await runCommand(
      { argv, cwd: options.checkout, env, timeoutMs },
      { onLine: (_stream, line) => lines.push(line), ...signalOf(options) },
    );
    log.push(...lines, `# ${describeOutcome(outcome, step.timeout)}`);
    if (outcome.startError || outcome.timedOut || outcome.aborted) {
      await writeFile(logFile, log.join('\n') + '\n');
      throw new GitstrapError(
        `install step "${name}": git apply ${describeOutcome(outcome, step.timeout)}`,
        {
          hint:
            outcome.startError === 'ENOENT'
              ? 'git is not installed or not on PATH (first boot installs it)'
              : `see ${logFile}`,
          exitCode: outcome.aborted ? ExitCode.interrupted : ExitCode.failed,
        },
      );
    }
    return { ok: outcome.code === 0, lines };
  };
  /** A run that a check just said would work; a failure now is reported as it is. */
  const must = async (action: PatchAction, file?: string, diff?: readonly DiffFile[]) => {
    const run = await git(action, file, diff);
    if (!run.ok) throw failed(run.lines);
  };
  const failed = (lines: string[]) => {
    const { message, details, hint } = describePatchFailure(
      name,
      options.commit,
      explainPatchFailure(lines, files),
      lines,
    );
    options.logger.log('error', 'step.failed', { step: name, outcome: 'patch does not apply' });
    return new GitstrapError(message, { details, hint, exitCode: ExitCode.failed });
  };
  const finish = async (result: PatchResult): Promise<PatchResult> => {
    const record: AppliedRecord = { commit: options.commit, patch };
    await writeFile(`${recordFile}.tmp`, JSON.stringify(record) + '\n');
    await rename(`${recordFile}.tmp`, recordFile);
    await writeFile(logFile, log.join('\n') + `\n# ${result}\n`);
    options.logger.log('info', 'step.patch', {
      step: name,
      result,
      files: files.map((f) => f.path),
    });
    return result;
  };

  await writeFile(patchFile, patch);
  try {
    const forward = await git('check');
    if (forward.ok) {
      await must('apply');
      return await finish('applied');
    }
    if ((await git('check-reverse')).ok) return await finish('already applied');
    // The checkout may carry an earlier version of this step's patch (the recipe was edited).
    const earlier = readRecord(recordFile);
    if (earlier && earlier.commit === options.commit && earlier.patch !== patch) {
      const earlierDiff = parseUnifiedDiff(earlier.patch);
      const earlierFile = path.join(options.stepsDir, `${name}.earlier.patch`);
      await writeFile(earlierFile, earlier.patch);
      if (earlierDiff.ok && (await git('check-reverse', earlierFile, earlierDiff.files)).ok) {
        await must('reverse', earlierFile, earlierDiff.files);
        const again = await git('check');
        if (again.ok) {
          await must('apply');
          return await finish('replaced an earlier version');
        }
        await must('apply', earlierFile, earlierDiff.files); // leave the checkout as it was
        throw failed(again.lines);
      }
    }
    throw failed(forward.lines);
  } catch (error) {
    await writeFile(logFile, log.join('\n') + '\n').catch(() => undefined);
    throw error;
  }
}

/** The files of a step's patch; the recipe loader has checked it, so a failure here is a bug's. */
function diffFiles(name: string, patch: string): DiffFile[] {
  const parsed = parseUnifiedDiff(patch);
  if (parsed.ok) return parsed.files;
  throw new GitstrapError(
    `install step "${name}": line ${parsed.line} of the patch: ${parsed.message}`,
    { hint: 'paste the output of git diff, made in a clone of service.repo' },
  );
}

function readRecord(file: string): AppliedRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as Partial<AppliedRecord>;
    return typeof record.commit === 'string' && typeof record.patch === 'string'
      ? { commit: record.commit, patch: record.patch }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The agent's environment for git apply: messages in English, no repository named from outside. */
function gitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, LC_ALL: 'C', LANGUAGE: 'C' };
  for (const key of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY']) {
    delete out[key];
  }
  return out;
}

function signalOf(options: PatchStepOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

// Planning a patch install step: the git apply commands it runs, and what to tell a person when the
// patch no longer applies (which file, which hunk, what it expected to find). Pure: no git, no files.
import type { DiffFile, DiffHunk } from '../recipe/unified-diff.js';
import { needsUnidiffZero } from '../recipe/unified-diff.js';

/** What a git apply run does: check or apply, forward or in reverse. */
export type PatchAction = 'check' | 'apply' | 'check-reverse' | 'reverse';

/** The argv of one git apply run in the service checkout. */
export function patchArgv(
  action: PatchAction,
  patchFile: string,
  files: readonly DiffFile[],
): string[] {
  return [
    'git',
    'apply',
    ...(action === 'check-reverse' || action === 'reverse' ? ['--reverse'] : []),
    ...(action === 'check' || action === 'check-reverse' ? ['--check'] : []),
    ...(needsUnidiffZero(files) ? ['--unidiff-zero'] : []),
    '--',
    patchFile,
  ];
}

/** Where and why a patch did not apply, read from git apply's output (LC_ALL=C). */
export interface PatchFailure {
  file?: DiffFile;
  hunk?: DiffHunk;
  /** One line: what is wrong. */
  problem: string;
}

/** Reads git apply's error lines: the first file and hunk it could not apply. */
export function explainPatchFailure(
  output: readonly string[],
  files: readonly DiffFile[],
): PatchFailure {
  const byPath = (p: string) => files.find((f) => f.path === p);
  for (const line of output) {
    const failed = /^error: patch failed: (.+):(\d+)$/.exec(line);
    if (failed) {
      const file = byPath(failed[1]!);
      const start = Number(failed[2]);
      const hunk = file?.hunks.find((h) => h.oldStart === start);
      return {
        ...(file ? { file } : {}),
        ...(hunk ? { hunk } : {}),
        problem: `${failed[1]}${hunk ? `, hunk ${hunk.index} (${hunk.header})` : ` near line ${start}`}: the service checkout does not have the lines this hunk changes`,
      };
    }
    const exists = /^error: (.+): already exists in working directory$/.exec(line);
    if (exists) {
      const file = byPath(exists[1]!);
      return {
        ...(file ? { file } : {}),
        problem: `${exists[1]}: the patch creates it, but the service checkout already has it`,
      };
    }
    const missing = /^error: (.+): (No such file or directory|does not exist in index)$/.exec(line);
    if (missing) {
      const file = byPath(missing[1]!);
      return {
        ...(file ? { file } : {}),
        problem: `${missing[1]}: the patch changes it, but the service checkout does not have it`,
      };
    }
  }
  const first = output.find((l) => l.startsWith('error: ') || l.startsWith('fatal: '));
  return { problem: first ? first.replace(/^(error|fatal): /, '') : 'git apply failed' };
}

/** The message, details and hint of a patch step that does not apply. */
export function describePatchFailure(
  step: string,
  commit: string,
  failure: PatchFailure,
  output: readonly string[],
): { message: string; details: string[]; hint: string } {
  const details: string[] = [];
  if (failure.hunk && failure.hunk.expects.length) {
    const shown = failure.hunk.expects.slice(0, 4);
    details.push(
      `the hunk (line ${failure.hunk.line} of the patch) expects, from line ${failure.hunk.oldStart} of ${failure.file!.path}:`,
      ...shown.map((l) => `  ${l}`),
      ...(failure.hunk.expects.length > shown.length
        ? [`  (${failure.hunk.expects.length - shown.length} more lines)`]
        : []),
    );
  }
  if (output.length) details.push('git apply said:', ...output.slice(0, 10).map((l) => `  ${l}`));
  return {
    message: `install step "${step}": the patch does not apply to the service at ${commit.slice(0, 12)}: ${failure.problem}`,
    details,
    hint:
      'the service repo may have changed upstream since the patch was written: pin service.ref to the commit ' +
      'it was written for, or remake the patch against the new code (git diff in a clone of service.repo); ' +
      'then run again (steps already done are skipped)',
  };
}

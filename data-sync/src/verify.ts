// Commit verification: publish only commits signed (SSH signatures) by a key in the recipe's
// allowed signers. git verify-commit checks the signature with ssh-keygen against that file.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SyncFailure, lastLines } from './failure.js';
import type { Git } from './git.js';

/** The allowed_signers file for the recipe's keys, one per line. Pure. */
export function planAllowedSigners(keys: readonly string[]): string {
  return keys.map((k) => k.trim()).join('\n') + '\n';
}

/** Writes the allowed signers file when its content changed (atomically). */
export function writeAllowedSigners(file: string, keys: readonly string[]): void {
  const text = planAllowedSigners(keys);
  try {
    if (readFileSync(file, 'utf8') === text) return;
  } catch {
    // not written yet
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

/** The git arguments that verify `commit` against `signersFile`. Pure. */
export function planVerify(commit: string, signersFile: string): string[] {
  return [
    '-c',
    'gpg.format=ssh',
    '-c',
    `gpg.ssh.allowedSignersFile=${signersFile}`,
    'verify-commit',
    '--raw',
    commit,
  ];
}

/** Throws a SyncFailure (phase "verify") unless `commit` carries a good signature by an allowed key. */
export async function verifyCommit(git: Git, commit: string, signersFile: string): Promise<void> {
  const result = await git.run(planVerify(commit, signersFile));
  if (result.code === 0) return;
  const why = lastLines(result.stderr, 3).join('; ');
  const unsigned = !/signature/i.test(result.stderr) || /no signature/i.test(result.stderr);
  throw new SyncFailure(
    'verify',
    `commit ${commit.slice(0, 12)} is ${unsigned ? 'not signed' : 'not signed by an allowed key'}${why ? ` (${why})` : ''}; not publishing it`,
    'sign data commits with a key listed in data.verify.allowed_signers (git commit -S with gpg.format=ssh)',
  );
}

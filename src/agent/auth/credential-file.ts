// Reading a credential file on the instance: it must be readable by its owner only.
import { readFileSync, statSync } from 'node:fs';
import { GitstrapError } from '../../lib/errors.js';

/** Throws unless `file` exists, is a regular file and has no group/other permissions. */
export function checkCredentialFile(file: string, key: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    throw new GitstrapError(
      `${key}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { hint: 'put the credential there, owned by the agent user (gitstrap), mode 0600' },
    );
  }
  if (!stat.isFile()) {
    throw new GitstrapError(`${key}: ${file} is not a regular file`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new GitstrapError(
      `${key}: ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it`,
      { hint: `run: chmod 600 ${file} (and chown it to the agent user)` },
    );
  }
}

/** Reads a credential file after checking its permissions; the value is trimmed. */
export function readCredentialFile(file: string, key: string): string {
  checkCredentialFile(file, key);
  const value = readFileSync(file, 'utf8').trim();
  if (!value) throw new GitstrapError(`${key}: ${file} is empty`);
  return value;
}
